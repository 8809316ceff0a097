// Notifications (A4): the list, newest first, each with its snapshot and a link to the device.
import { api, hub } from "../api.js";
import { h, icon, timeAgo } from "../dom.js";
import { markAllRead, normalise, notificationTarget, onRecent, recentNotifications } from "../notify.js";
import { device } from "../store.js";

const KIND_ICON = { person: "user", human: "user", doorbell: "bell", tamper: "alert", lockout: "lock", low_battery: "battery", offline: "wifi" };

function item(n) {
  const d = device(n.device_id);
  return h("a", { class: `notif ${n.read ? "" : "unread"}`, href: notificationTarget(n), dataset: { kind: n.kind } },
    n.snapshot ? h("img", { src: n.snapshot, alt: "", loading: "lazy" }) : h("div", { class: "thumb" }, icon(KIND_ICON[n.kind] || "bell", 24)),
    h("div", { class: "grow" },
      h("div", { class: "title" }, n.title),
      h("div", { class: "meta small muted" }, [d && d.name, n.body].filter(Boolean).join(" · ")),
      h("div", { class: "small muted" }, timeAgo(n.ts))));
}

export default function notificationsScreen() {
  const list = h("div", { class: "card", id: "notification-list", style: { padding: "6px" } }, h("div", { style: { padding: "12px" } }, h("div", { class: "skeleton-group" }, h("div", { class: "skeleton" }), h("div", { class: "skeleton" }), h("div", { class: "skeleton" }))));
  let rows = [];
  const render = () => {
    if (!rows.length) {
      list.replaceChildren(h("div", { class: "empty" }, icon("bell", 40), h("h2", {}, "All quiet"), h("p", {}, "Alerts from your cameras and lock appear here.")));
      return;
    }
    list.replaceChildren(...rows.map(item));
  };
  hub.notifications().then((page) => {
    const fetched = page.items.map(normalise);
    const ids = new Set(fetched.map((n) => n.id));
    rows = [...recentNotifications().filter((n) => !ids.has(n.id)), ...fetched];
    render();
    markAllRead();
    api.post("/api/notifications/read-all").catch(() => {});
  }).catch(() => { rows = recentNotifications(); render(); });
  markAllRead();
  const unsub = onRecent((n) => { rows.unshift(n); render(); markAllRead(); });
  const el = h("section", {},
    h("div", { class: "page-head" }, h("div", { class: "grow" }, h("h1", {}, "Alerts"), h("div", { class: "sub" }, "People, doorbell, tamper, lockout, battery and offline alerts"))),
    list);
  return { el, title: "Alerts", destroy: unsub };
}
