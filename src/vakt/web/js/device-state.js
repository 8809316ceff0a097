// Reads the fields the app shows out of a device's retained state, tolerant of where each lives.

const pick = (obj, ...paths) => {
  for (const path of paths) {
    let v = obj;
    for (const k of path.split(".")) v = v == null ? undefined : v[k];
    if (v !== undefined && v !== null) return v;
  }
  return undefined;
};

export function lockState(d) {
  const s = d.state || {};
  const v = pick(s, "lock_state", "motor", "lockState", "bolt", "locked") ?? d.locked;
  if (v === true) return "locked";
  if (v === false) return "unlocked";
  return typeof v === "string" ? v.toLowerCase() : undefined;
}

export function battery(d) {
  const s = d.state || {};
  let pct = pick(s, "battery_percent", "battery.percent", "battery_pct", "battery.level");
  if (pct === undefined && typeof s.battery === "number") pct = s.battery;
  if (pct === undefined && typeof d.battery === "number") pct = d.battery;
  const volts = pick(s, "battery_voltage", "battery.voltage", "battery_v");
  const low = Boolean(pick(s, "battery_low", "battery.low"));
  if (pct === undefined && volts === undefined) return undefined;
  return { pct: pct === undefined ? undefined : Math.round(pct), volts, low };
}

// A lock's radio link as its gateway measures it (state.link, pushed), else the hub's summary (Device.rssi).
export function rssi(d) {
  const link = d.state && d.state.link;
  const v = link && typeof link.rssi_dbm === "number" ? link.rssi_dbm : d.rssi;
  return typeof v === "number" ? v : undefined;
}

export function alarms(d) {
  const s = d.state || {};
  const v = pick(s, "alarms", "active_alarms", "alarm") ?? d.alarms;
  if (!v) return [];
  if (Array.isArray(v)) return v.map((a) => (typeof a === "string" ? a : a.code || a.type || a.name));
  if (typeof v === "string") return [v];
  if (typeof v === "object") return Object.entries(v).filter(([, on]) => on).map(([k]) => k);
  return [];
}

export function operatingMode(d) {
  return pick(d.state || {}, "operating_mode", "operatingMode", "mode");
}

export function panel(d) {
  return pick(d.state || {}, "panel") || {};
}

export function humanize(code) {
  return String(code).replace(/([a-z])([A-Z])/g, "$1 $2").replace(/[_.]/g, " ").replace(/^./, (c) => c.toUpperCase());
}

export function rssiLabel(v) {
  if (v === undefined) return undefined;
  if (v >= -60) return ["Excellent", "ok"];
  if (v >= -70) return ["Good", "ok"];
  if (v >= -80) return ["Fair", "warn"];
  return ["Poor", "danger"];
}
