// The lock's operation log (A7, L8.4): who, how, when; filters by event type, method and day; older pages on
// demand ("Load older", the hub's `before`); new entries arrive over /api/ws.
import { hub } from "../api.js";
import { h, icon, formatTime, LOCALES } from "../dom.js";
import { humanize } from "../device-state.js";
import { on } from "../ws.js";
import { EVENT_TYPE, LOCK_OPERATION, alarmLabel, credentialLabel, errorLabel, sourceLabel, userChangeLabel } from "../lock-labels.js";
import { can } from "../perms.js";

const LOG_TYPES = ["LockOperation", "LockOperationError", "DoorLockAlarm", "LockUserChange"];
const FILTERS = [["", "All"], ...LOG_TYPES.map((t) => [t, EVENT_TYPE[t]])];
const SOURCES = ["", "Keypad", "Biometric", "RFID", "Remote", "Manual", "Auto", "Button"];
// The hub's credential kinds (code/card/fingerprint) -> the lock's CredentialType.
const MATTER = { code: "PIN", card: "RFID", fingerprint: "Fingerprint" };
// Entries per page; ?page_size= on the screen's address asks for fewer or more (the hub's limit is 500).
const PAGE = Math.min(500, Math.max(1, Number(new URLSearchParams(location.search).get("page_size")) || 50));

/** One row of the log, from the lock's own event data (Matter field names). */
function entry(id, ts, type, data, { user = null, credential = null } = {}) {
  const cred = data.credential;
  return {
    id, ts, type,
    op: data.lock_operation_type ?? null,
    source: data.operation_source ?? null,
    error: data.operation_error ?? null,
    user: user ?? (data.user_index ? `User ${data.user_index}` : null),
    credential: credential ?? (cred ? `${credentialLabel(cred.credential_type)} #${cred.credential_index}` : null),
    alarm: data.alarm_code ?? null,
    mechanism: data.mechanism ?? null,
    change: data.data_operation_type ? userChangeLabel(data) : null,
    active: data.active ?? true,
  };
}

/** @param {import("../api.js").Operation} o */
const fromOperation = (o) => entry(o.event_id, o.ts, o.type, o.data, {
  user: o.user_name,
  credential: o.credential_kind ? `${credentialLabel(MATTER[o.credential_kind])} #${o.credential_number}` : null,
});
/** @param {import("../api.js").DeviceEvent} e */
const fromEvent = (e) => entry(e.id, e.ts, e.type, e.data);
/** @param {import("../api.js").LockAlarm} a */
const fromAlarm = (a) => entry(a.event_id, a.ts, "DoorLockAlarm", { alarm_code: a.alarm_code, active: a.active });

function describe(x) {
  switch (x.type) {
    case "LockOperation": return [`${LOCK_OPERATION[x.op] || "Locked"}${x.source ? ` with ${sourceLabel(x.source)}` : ""}`, x.op === "Unlock" ? "unlock" : "lock", ""];
    case "LockOperationError": return [`Failed ${String(x.op || "unlock").toLowerCase()}${x.source ? ` (${sourceLabel(x.source)})` : ""}: ${errorLabel(x.error || "Unspecified")}`, "alert", "danger"];
    case "DoorLockAlarm": return [`Alarm: ${alarmLabel(x.alarm)}${x.active ? "" : " (ended)"}`, "siren", x.active ? "danger" : ""];
    case "LockUserChange": return [x.change, "key", ""];
    case "Doorbell": return ["Doorbell rang", "bell", ""];
    default: return [EVENT_TYPE[x.type] || humanize(x.type || "event"), "panel", ""];
  }
}

function row(x) {
  const [text, ic, cls] = describe(x);
  return h("div", { class: "list-item log-entry", dataset: { type: x.type || "", source: x.source || "" } },
    h("div", { class: "device-icon", style: cls === "danger" ? { background: "var(--danger-soft)", color: "var(--danger)" } : {} }, icon(ic, 18)),
    h("div", { class: "grow" }, h("div", { class: "title" }, text),
      h("div", { class: "meta" }, [x.user, x.credential, x.mechanism && humanize(x.mechanism)].filter(Boolean).join(" · ") || "\u00a0")),
    h("div", { class: "meta mono" }, `${new Date(x.ts).toLocaleDateString(LOCALES, { month: "short", day: "numeric" })} ${formatTime(x.ts)}`));
}

/** The local day [start, end) of an <input type=date> value, as instants. */
function dayBounds(value) {
  const [y, m, d] = value.split("-").map(Number);
  return [new Date(y, m - 1, d), new Date(y, m - 1, d + 1)];
}

export function lockLog(d) {
  let entries = [];
  let more = false;
  const list = h("div", { class: "list", id: "lock-log" });
  const typeSel = h("select", { class: "input", "aria-label": "Kind", id: "log-filter-type", style: { width: "auto" } }, FILTERS.map(([v, l]) => h("option", { value: v }, l)));
  const sourceSel = h("select", { class: "input", "aria-label": "Source", id: "log-filter-source", style: { width: "auto" } }, SOURCES.map((s) => h("option", { value: s }, s ? humanize(sourceLabel(s)) : "Any method")));
  const daySel = h("input", { class: "input", type: "date", id: "log-filter-day", "aria-label": "Day", style: { width: "auto" } });
  const older = h("button", { class: "btn btn-sm", id: "log-load-older", type: "button" }, "Load older");
  for (const el of [typeSel, sourceSel, daySel]) el.addEventListener("change", () => refresh());

  const matches = (x) => {
    if (typeSel.value && x.type !== typeSel.value) return false;
    if (sourceSel.value && x.source !== sourceSel.value) return false;
    if (!daySel.value) return true;
    const [start, end] = dayBounds(daySel.value);
    const t = new Date(x.ts);
    return t >= start && t < end;
  };
  const render = () => {
    const shown = entries.filter(matches);
    older.style.display = more ? "" : "none"; // .btn's display would override [hidden]
    list.replaceChildren(...(shown.length ? shown.map(row)
      : [h("div", { class: "empty" }, typeSel.value || sourceSel.value || daySel.value ? "Nothing matches these filters." : "Nothing here yet.")]));
  };
  /** One page of the log older than `before` (an instant; null: the newest). */
  async function page(before) {
    const ops = await hub.lockLog(d.id, { limit: PAGE, before, type: typeSel.value, source: sourceSel.value });
    const rows = ops.map(fromOperation);
    more = ops.length === PAGE;
    if (daySel.value && rows.length && new Date(rows[rows.length - 1].ts) < dayBounds(daySel.value)[0]) more = false;
    return rows;
  }
  async function refresh() {
    if (!can(d, "history")) { // a guest without History sees why, and no request ends in 403 (A5)
      list.replaceChildren(h("div", { class: "empty" }, "The owner has not shared this lock's history with you."));
      older.style.display = "none";
      return;
    }
    list.replaceChildren(h("div", { class: "skeleton-group", style: { padding: "12px 0" } }, h("div", { class: "skeleton" }), h("div", { class: "skeleton" }), h("div", { class: "skeleton" })));
    try {
      const before = daySel.value ? dayBounds(daySel.value)[1].toISOString() : null;
      entries = await page(before);
      if ((!typeSel.value || typeSel.value === "DoorLockAlarm") && !sourceSel.value) {
        // Alarms (L10) the log does not hold come from their own list, merged in time order.
        const seen = new Set(entries.map((e) => e.id));
        const oldest = entries.length && more ? Date.parse(entries[entries.length - 1].ts) : -Infinity;
        for (const a of await hub.lockAlarms(d.id).catch(() => [])) {
          if (!seen.has(a.event_id) && Date.parse(a.ts) >= oldest) entries.push(fromAlarm(a));
        }
        entries.sort((x, y) => Date.parse(y.ts) - Date.parse(x.ts));
      }
      render();
    } catch (err) {
      list.replaceChildren(h("div", { class: "empty" }, err.message));
    }
  }
  older.onclick = async () => {
    const oldest = entries[entries.length - 1];
    if (!oldest) return;
    try {
      const rows = await page(oldest.ts);
      const seen = new Set(entries.map((e) => e.id));
      entries.push(...rows.filter((x) => !seen.has(x.id)));
      render();
    } catch (err) { list.append(h("div", { class: "empty" }, err.message)); }
  };
  const off = on("device.event", (m) => {
    if (m.device_id !== d.id || !LOG_TYPES.includes(m.event.type)) return;
    const x = fromEvent(m.event);
    if (entries.some((e) => e.id === x.id)) return;
    entries.unshift(x);
    render();
  });
  older.style.display = "none";
  const el = h("div", {},
    h("div", { class: "row filters", style: { marginBottom: "6px", flexWrap: "wrap" } }, typeSel, sourceSel, daySel),
    list,
    h("div", { class: "row", style: { justifyContent: "center", marginTop: "8px" } }, older));
  return { el, refresh, destroy: off };
}
