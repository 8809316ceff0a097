// A device in the list: icon, name, and its live state as chips (A3).
import { h, icon } from "../dom.js";
import { kindLabel } from "../store.js";
import { can } from "../perms.js";
import { alarms, battery, humanize, lockState, rssi, rssiLabel } from "../device-state.js";
import { alarmLabel } from "../lock-labels.js";

const KIND_ICON = { camera: "camera", lock: "lock", gateway: "gateway" };

export function stateChips(d) {
  const chips = [];
  chips.push(d.online
    ? h("span", { class: "chip ok", dataset: { chip: "online" } }, h("span", { class: "dot" }), "Online")
    : h("span", { class: "chip", dataset: { chip: "online" } }, h("span", { class: "dot" }), "Offline"));
  const ls = lockState(d);
  if (ls) {
    const cls = ls === "locked" ? "ok" : ls === "unlocked" ? "warn" : "danger";
    chips.push(h("span", { class: `chip ${cls}`, dataset: { chip: "lock" } }, icon(ls === "locked" ? "lock" : "unlock", 14), humanize(ls)));
  }
  const b = battery(d);
  if (b) {
    chips.push(h("span", { class: `chip ${b.low ? "danger" : ""}`, title: `${b.volts} V`, dataset: { chip: "battery" } }, icon("battery", 14), `${b.pct}%`));
  }
  const r = rssi(d);
  if (r !== undefined) {
    const [label, cls] = rssiLabel(r);
    chips.push(h("span", { class: `chip ${cls}`, title: `${r} dBm`, dataset: { chip: "rssi" } }, icon("wifi", 14), `${label} · ${r} dBm`));
  }
  for (const a of alarms(d)) chips.push(h("span", { class: "chip danger", dataset: { chip: "alarm" } }, icon("alert", 14), alarmLabel(a)));
  return chips;
}

export function deviceCard(d) {
  const kind = d.kind || "device";
  const name = d.name || `${kindLabel[kind] || "Device"} ${d.serial || ""}`;
  const thumb = kind === "camera"
    ? h("div", { class: "device-thumb", style: { backgroundImage: d.online && can(d, "live_view") ? `url(/api/cameras/${d.id}/snapshot?ts=${Math.floor(Date.now() / 15000)})` : "" } },
      h("span", { class: "chip" }, d.online ? "Live" : "Offline"))
    : null;
  return h("a", { class: `card device-card ${d.online ? "" : "offline"}`, href: `/devices/${d.id}`, dataset: { deviceId: d.id, kind } },
    thumb,
    h("div", { class: "device-body" },
      h("div", { class: "device-head" },
        h("div", { class: "device-icon" }, icon(KIND_ICON[kind] || "panel", 22)),
        h("div", { class: "grow" },
          h("div", { class: "device-name" }, name),
          h("div", { class: "device-sub" }, [kindLabel[kind] || kind, d.model].filter(Boolean).join(" · "),
            d.is_owner === false ? " · shared with you" : ""))),
      h("div", { class: "device-stats" }, stateChips(d))));
}
