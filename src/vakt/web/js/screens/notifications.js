// Notifications (A4): the list, newest first, each with its snapshot and a link to where it leads; filters
// by kind, device and day over what is loaded, older pages on demand. Opening the list reads them all.
import { api, hub } from "../api.js";
import { h, icon, timeAgo, LOCALES } from "../dom.js";
import { toastError } from "../toast.js";
import { KIND_TITLES, forgetNotification, markAllRead, normalise, notificationTarget, onRecent, recentNotifications } from "../notify.js";
import { device, loadDevices } from "../store.js";

const KIND_ICON = { person: "user", human: "user", doorbell: "bell", tamper: "alert", lockout: "lock", low_battery: "battery", offline: "wifi" };
const PAGE = 50;

function item(n, dismiss) {
  const d = device(n.device_id);
  const close = h("button", { class: "btn btn-sm btn-ghost dismiss", type: "button", title: "Dismiss", "aria-label": `Dismiss: ${n.title}` }, icon("close", 16));
  close.addEventListener("click", (ev) => { ev.preventDefault(); ev.stopPropagation(); dismiss(n); });
  return h("a", { class: `notif ${n.read ? "" : "unread"}`, href: notificationTarget(n), dataset: { kind: n.kind, id: n.id } },
    n.snapshot ? h("img", { src: n.snapshot, alt: "", loading: "lazy" }) : h("div", { class: "thumb" }, icon(KIND_ICON[n.kind] || "bell", 24)),
    h("div", { class: "grow" },
      h("div", { class: "title" }, n.title),
      h("div", { class: "meta small muted" }, [d && d.name, n.body].filter(Boolean).join(" · ")),
      h("div", { class: "small muted", title: new Date(n.ts).toLocaleString(LOCALES) }, timeAgo(n.ts))),
    n.id ? close : null);
}

function localDay(iso) {
  const t = new Date(iso);
  return `${t.getFullYear()}-${String(t.getMonth() + 1).padStart(2, "0")}-${String(t.getDate()).padStart(2, "0")}`;
}

export default function notificationsScreen() {
  const list = h("div", { class: "card", id: "notification-list", style: { padding: "6px" } }, h("div", { style: { padding: "12px" } }, h("div", { class: "skeleton-group" }, h("div", { class: "skeleton" }), h("div", { class: "skeleton" }), h("div", { class: "skeleton" }))));
  const kindSel = h("select", { class: "input", id: "filter-kind", "aria-label": "Kind" },
    h("option", { value: "" }, "All kinds"), Object.entries(KIND_TITLES).filter(([k]) => k !== "human").map(([k, t]) => h("option", { value: k }, t)));
  const deviceSel = h("select", { class: "input", id: "filter-device", "aria-label": "Device" }, h("option", { value: "" }, "All devices"));
  const daySel = h("input", { class: "input", type: "date", id: "filter-day", "aria-label": "Day" });
  const more = h("button", { class: "btn btn-sm", id: "load-older", type: "button" }, "Load older");
  /** @type {ReturnType<typeof normalise>[]} */
  let rows = [];
  /** @type {number|null} */
  let nextBefore = null;

  const render = () => {
    const shown = rows.filter((n) => (!kindSel.value || n.kind === kindSel.value || (kindSel.value === "person" && n.kind === "human"))
      && (!deviceSel.value || String(n.device_id) === deviceSel.value)
      && (!daySel.value || localDay(n.ts) === daySel.value));
    more.style.display = nextBefore === null ? "none" : ""; // .btn's display would override [hidden]
    if (!shown.length) {
      const filtered = rows.length > 0;
      list.replaceChildren(h("div", { class: "empty" }, icon("bell", 40), h("h2", {}, filtered ? "Nothing matches" : "All quiet"),
        h("p", {}, filtered ? "No alert matches these filters in what is loaded." : "Alerts from your cameras and lock appear here.")));
      return;
    }
    list.replaceChildren(...shown.map((n) => item(n, dismiss)));
  };
  const dismiss = async (n) => {
    try {
      await hub.dismissNotification(n.id);
      rows = rows.filter((x) => x.id !== n.id);
      forgetNotification(n.id);
      render();
    } catch (err) { toastError(err); }
  };
  const load = async (before) => {
    const page = await hub.notifications({ limit: PAGE, before });
    nextBefore = page.next_before;
    return page.items.map(normalise);
  };
  load(null).then((fetched) => {
    const ids = new Set(fetched.map((n) => n.id));
    rows = [...recentNotifications().filter((n) => !ids.has(n.id)), ...fetched];
    render();
    markAllRead();
    api.post("/api/notifications/read-all").catch(() => {});
  }).catch(() => { rows = recentNotifications(); render(); });
  more.onclick = async () => {
    if (nextBefore === null) return;
    const older = await load(nextBefore);
    const ids = new Set(rows.map((n) => n.id));
    rows.push(...older.filter((n) => !ids.has(n.id)));
    render();
  };
  loadDevices().then((all) => {
    deviceSel.append(...all.map((d) => h("option", { value: String(d.id) }, d.name || d.serial)));
  }).catch(() => {});
  for (const sel of [kindSel, deviceSel, daySel]) sel.addEventListener("change", render);
  markAllRead();
  const unsub = onRecent((n) => { rows.unshift(n); render(); markAllRead(); });
  const el = h("section", {},
    h("div", { class: "page-head" }, h("div", { class: "grow" }, h("h1", {}, "Alerts"), h("div", { class: "sub" }, "People, doorbell, tamper, lockout, battery and offline alerts"))),
    h("div", { class: "row filters", style: { marginBottom: "12px", flexWrap: "wrap" } }, kindSel, deviceSel, daySel),
    list,
    h("div", { class: "row", style: { justifyContent: "center", marginTop: "12px" } }, more));
  return { el, title: "Alerts", destroy: unsub };
}
