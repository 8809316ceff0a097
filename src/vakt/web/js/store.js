// Devices the user can see, kept current from /api/devices and /api/ws pushes.
import { hub } from "./api.js";
import { on } from "./ws.js";
import { navigate } from "./router.js";
import { toast } from "./toast.js";

const devices = new Map();
const subscribers = new Set();
let loaded = null;

function notify(id) { for (const fn of subscribers) fn(id); }

export function subscribe(fn) { subscribers.add(fn); return () => subscribers.delete(fn); }
export function allDevices() { return [...devices.values()].sort((a, b) => a.id - b.id); }
export function device(id) { return devices.get(Number(id)); }

export async function loadDevices(force = false) {
  if (!loaded || force) {
    loaded = hub.devices().then((list) => {
      devices.clear();
      for (const d of list) devices.set(d.id, d);
      notify(null);
      return allDevices();
    }).catch((err) => { loaded = null; throw err; });
  }
  return loaded;
}

export async function loadDevice(id) {
  const d = await hub.device(id);
  devices.set(d.id, { ...devices.get(d.id), ...d });
  notify(d.id);
  return devices.get(d.id);
}

export function removeDevice(id) { devices.delete(Number(id)); notify(Number(id)); }
export function upsertDevice(d) { devices.set(d.id, { ...devices.get(d.id), ...d }); notify(d.id); }

function patch(id, fields) {
  const cur = devices.get(Number(id));
  if (!cur) return;
  devices.set(cur.id, { ...cur, ...fields });
  notify(cur.id);
}

// Push messages from the hub (A8): state and availability changes.
// {"type": "device.state", device_id, state} and {"type": "device.online", device_id, online} (hub/mqtt.py)
on("device.state", (m) => patch(m.device_id, { state: m.state }));
on("device.online", (m) => patch(m.device_id, { online: m.online }));
on("device.added", () => loadDevices(true).catch(() => {}));
on("device.deleted", (m) => removeDevice(m.device_id));
// Shares given or changed (A5, pushed by the hub to the other account): the list and permissions follow.
on("share.created", () => loadDevices(true).catch(() => {}));
on("share.updated", (m) => { loadDevice(m.device_id).catch(() => {}); });
// A share taken back (A5, pushed by the hub): the device goes at once, and its screen with it.
on("share.revoked", (m) => {
  const gone = devices.get(Number(m.device_id));
  removeDevice(m.device_id);
  if (location.pathname === `/devices/${m.device_id}` || location.pathname.startsWith(`/devices/${m.device_id}/`)) {
    toast(`${gone ? gone.name : "This device"} is no longer shared with you.`, { kind: "info" });
    navigate("/", { replace: true });
  }
});
on("ws.open", () => { if (loaded) loadDevices(true).catch(() => {}); });

export const kindLabel = { camera: "Camera", lock: "Smart lock", gateway: "Home gateway" };
