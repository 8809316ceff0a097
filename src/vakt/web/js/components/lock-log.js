// The lock's operation log (A7, L8.4): who, how, when; filters; new entries arrive over /api/ws.
import { api } from "../api.js";
import { h, icon, formatTime } from "../dom.js";
import { humanize } from "../device-state.js";
import { on } from "../ws.js";
import { EVENT_TYPE, LOCK_OPERATION, alarmLabel, credentialLabel, errorLabel, sourceLabel, userChangeLabel } from "../lock-labels.js";
import { can } from "../perms.js";

const LOG_TYPES = ["LockOperation", "LockOperationError", "DoorLockAlarm", "LockUserChange"];
const FILTERS = [["", "All"], ...LOG_TYPES.map((t) => [t, EVENT_TYPE[t]])];
const SOURCES = ["", "Keypad", "Biometric", "RFID", "Remote", "Manual", "Auto", "Button"];
// The hub's credential kinds (code/card/fingerprint) -> the lock's CredentialType.
const MATTER = { code: "PIN", card: "RFID", fingerprint: "Fingerprint" };

function entryOf(raw) {
  const e = raw.event || raw;
  const data = e.data || e;
  return {
    id: e.event_id ?? e.id,
    ts: e.ts || e.time || raw.ts,
    type: e.type || e.kind,
    op: data.lock_operation_type || raw.operation || data.operation,
    source: data.operation_source || raw.source,
    error: data.operation_error || raw.error,
    user: raw.user_name || data.user_name || e.user_name || (data.user_index ? `User ${data.user_index}` : null),
    credential: data.credential ? `${credentialLabel(data.credential.credential_type)} #${data.credential.credential_index}`
      : raw.credential_kind ? `${credentialLabel(MATTER[raw.credential_kind])} #${raw.credential_number}` : null,
    alarm: data.alarm_code,
    mechanism: data.mechanism,
    clip: raw.clip_url || e.clip_url || null,
    change: data.data_operation_type ? userChangeLabel(data) : null,
    active: data.active ?? true,
  };
}

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
    x.clip ? h("a", { class: "btn btn-sm btn-ghost", href: x.clip }, icon("play", 14), "Clip") : null,
    h("div", { class: "meta mono" }, `${new Date(x.ts).toLocaleDateString([], { month: "short", day: "numeric" })} ${formatTime(x.ts)}`));
}

export function lockLog(d) {
  let type = "";
  let source = "";
  let entries = [];
  const list = h("div", { class: "list", id: "lock-log" });
  const typeSel = h("select", { class: "input", "aria-label": "Kind", id: "log-filter-type", style: { width: "auto" } }, FILTERS.map(([v, l]) => h("option", { value: v }, l)));
  const sourceSel = h("select", { class: "input", "aria-label": "Source", id: "log-filter-source", style: { width: "auto" } }, SOURCES.map((s) => h("option", { value: s }, s ? humanize(sourceLabel(s)) : "Any method")));
  typeSel.onchange = () => { type = typeSel.value; refresh(); };
  sourceSel.onchange = () => { source = sourceSel.value; refresh(); };
  const render = () => {
    const shown = entries.filter((x) => (!type || x.type === type) && (!source || x.source === source));
    list.replaceChildren(...(shown.length ? shown.map(row) : [h("div", { class: "empty" }, "Nothing here yet.")]));
  };
  async function refresh() {
    if (!can(d, "history")) { // a guest without History sees why, and no request ends in 403 (A5)
      list.replaceChildren(h("div", { class: "empty" }, "The owner has not shared this lock's history with you."));
      return;
    }
    list.replaceChildren(h("div", { class: "skeleton-group", style: { padding: "12px 0" } }, h("div", { class: "skeleton" }), h("div", { class: "skeleton" }), h("div", { class: "skeleton" })));
    const qs = new URLSearchParams({ limit: "100" });
    if (type) qs.set("type", type);
    if (source) qs.set("source", source);
    try {
      const data = await api.get(`/api/locks/${d.id}/log?${qs}`);
      entries = (Array.isArray(data) ? data : data.items || data.entries || []).map(entryOf);
      if (!type || type === "DoorLockAlarm") {
        // Alarms (L10) come from their own list; merged in time order.
        const alarms = await api.get(`/api/locks/${d.id}/alarms?limit=50`).catch(() => []);
        const seen = new Set(entries.map((e) => e.id));
        for (const a of alarms) {
          if (seen.has(a.event_id) || source) continue;
          entries.push({ id: a.event_id, ts: a.ts, type: "DoorLockAlarm", alarm: a.alarm_code, active: a.active });
        }
        entries.sort((x, y) => Date.parse(y.ts) - Date.parse(x.ts));
      }
      render();
    } catch (err) {
      list.replaceChildren(h("div", { class: "empty" }, err.message));
    }
  }
  const off = on("device.event", (m) => {
    if (m.device_id !== d.id) return;
    const x = entryOf(m);
    if (entries.some((e) => e.id && e.id === x.id)) return;
    entries.unshift(x);
    render();
  });
  const el = h("div", {}, h("div", { class: "row", style: { marginBottom: "6px" } }, typeSel, sourceSel), list);
  return { el, refresh, destroy: off };
}
