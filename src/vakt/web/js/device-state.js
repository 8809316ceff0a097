// Reads what the app shows out of a device's retained state, in the one shape the hub pushes (device.state):
// a lock's is vakt.lock.outputs.LockState plus the gateway relay's battery, link and panel
// (vakt.gateway.relay.LockRelay.state); cameras and gateways report no bolt, battery or radio link.

/**
 * A lock's retained state as its gateway relays it.
 * @typedef {{motor: "locked"|"unlocked", operating_mode: string, alarms: string[], volume: string,
 *   display: {lit: boolean, text: string|null, blinking: boolean}, last_prompts: string[],
 *   pairing_mode: boolean, front_panel_removed: boolean, memory_damaged: string|null,
 *   battery: {percent: number, volts: number, low: boolean, dead: boolean, usb_power: boolean},
 *   link: {rssi_dbm: number, frame_loss: number, messages: number, lost_messages: number}}} LockState
 */

/** @param {import("./api.js").Device} d @returns {Partial<LockState>} */
const lockOf = (d) => (d.kind === "lock" && d.state) || {};

/** "locked" / "unlocked" (MotorState), or undefined for a device with no bolt or no state yet. */
export function lockState(d) {
  return lockOf(d).motor;
}

/** @returns {{pct: number, volts: number, low: boolean}|undefined} */
export function battery(d) {
  const b = lockOf(d).battery;
  return b ? { pct: Math.round(b.percent), volts: b.volts, low: b.low } : undefined;
}

// A lock's radio link as its gateway measures it (G6).
export function rssi(d) {
  const link = lockOf(d).link;
  return link ? link.rssi_dbm : undefined;
}

/** The lock's active alarms (AlarmCode names). */
export function alarms(d) {
  return lockOf(d).alarms || [];
}

/** OperatingMode name (Normal, Privacy, Passage...). */
export function operatingMode(d) {
  return lockOf(d).operating_mode;
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
