// In-app notifications (A4): toasts with the snapshot as they are pushed, and an unread counter.
import { api } from "./api.js";
import { on } from "./ws.js";
import { toast } from "./toast.js";
import { navigate } from "./router.js";

const unreadListeners = new Set();
let unread = 0;
const seen = new Set();
const recent = [];
const recentListeners = new Set();

export function onUnread(fn) { unreadListeners.add(fn); fn(unread); return () => unreadListeners.delete(fn); }
export function onRecent(fn) { recentListeners.add(fn); return () => recentListeners.delete(fn); }
export function recentNotifications() { return recent.slice(); }

function setUnread(n) { unread = Math.max(0, n); for (const fn of unreadListeners) fn(unread); }
export function markAllRead() { setUnread(0); }

export const KIND_TITLES = {
  person: "Person detected",
  human: "Person detected",
  motion: "Motion",
  doorbell: "Someone rang the doorbell",
  tamper: "Tamper alarm",
  lockout: "Lock locked out",
  low_battery: "Low battery",
  offline: "Device offline",
  forced: "Forced entry",
};

/**
 * Where a notification leads: the doorbell (X3) to the door camera's live view with talk ready, every
 * other alert to its device. The service worker (sw.js) follows the same rule for a push.
 * @param {{kind: string, device_id?: number, data?: {camera_id?: number}}} n
 */
export function notificationTarget(n) {
  const camera = n.data && n.data.camera_id;
  if (n.kind === "doorbell" && camera) return `/devices/${camera}?talk=1`;
  return n.device_id ? `/devices/${n.device_id}` : "/notifications";
}

export function normalise(msg) {
  const n = msg.notification || msg;
  const kind = n.kind || n.type_ || n.category || n.event || "alert";
  return {
    id: n.id ?? msg.id,
    kind,
    device_id: n.device_id ?? msg.device_id,
    device_name: n.device_name || msg.device_name || "",
    title: n.title || KIND_TITLES[kind] || "Alert",
    body: n.body || n.message || "",
    snapshot: n.snapshot_url || n.snapshot || n.image_url || null,
    ts: n.ts || n.created_at || msg.ts || new Date().toISOString(),
    read: Boolean(n.read || n.read_at),
    data: n.data || {},
  };
}

function deliver(msg) {
  const n = normalise(msg);
  const key = n.id ?? `${n.kind}-${n.ts}`;
  if (seen.has(key)) return;
  seen.add(key);
  recent.unshift(n);
  recent.splice(50);
  for (const fn of recentListeners) fn(n);
  if (location.pathname !== "/notifications") setUnread(unread + 1);
  const target = notificationTarget(n);
  toast(n.body || (n.device_name ? `${n.device_name}` : ""), {
    kind: "alert", title: n.title, image: n.snapshot, timeout: 8000,
    action: n.device_id ? { label: n.kind === "doorbell" && n.data.camera_id ? "Answer" : "View", run: () => navigate(target) } : null,
  });
}

export async function startNotifications() {
  on("notification", deliver);
  try {
    const data = await api.get("/api/notifications?unread_only=true&limit=100");
    const rows = Array.isArray(data) ? data : data.items || [];
    for (const r of rows) seen.add(normalise(r).id);
    setUnread(typeof data.unread === "number" ? data.unread : rows.length);
  } catch { /* the notifications API may be absent; toasts still work */ }
}
