// Devices the user can see, kept current from /api/devices and /api/ws pushes.
import { api } from "./api.js";
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
    loaded = api.get("/api/devices").then((list) => {
      const rows = Array.isArray(list) ? list : list.devices || list.items || [];
      devices.clear();
      for (const d of rows) devices.set(d.id, d);
      notify(null);
      return allDevices();
    }).catch((err) => { loaded = null; throw err; });
  }
  return loaded;
}

export async function loadDevice(id) {
  const d = await api.get(`/api/devices/${id}`);
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
on("device.state", (m) => patch(m.device_id, { state: m.state ?? m.data ?? {} }));
on("device.online", (m) => patch(m.device_id, { online: m.online ?? true }));
on("device.availability", (m) => patch(m.device_id, { online: m.online ?? m.status === "online" }));
on("device.added", () => loadDevices(true).catch(() => {}));
on("device.deleted", (m) => removeDevice(m.device_id));
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
