// In-app notifications (A4): toasts with the snapshot as they are pushed, and an unread counter.
import { hub } from "./api.js";
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
/** A dismissed notification leaves the recent list too (it must not come back on the next visit). */
export function forgetNotification(id) {
  const i = recent.findIndex((n) => n.id === id);
  if (i >= 0) recent.splice(i, 1);
}

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

/**
 * What the screens show of a notification.
 * @param {import("./api.js").Notification} n
 */
export function normalise(n) {
  return {
    id: n.id,
    kind: n.kind,
    device_id: n.device_id,
    title: n.title || KIND_TITLES[n.kind] || "Alert",
    body: n.body,
    snapshot: n.snapshot_url,
    ts: n.created_at,
    read: n.read,
    data: n.data || {},
  };
}

/** @param {{type: "notification", device_id: number, notification: import("./api.js").Notification}} msg */
function deliver(msg) {
  const n = normalise(msg.notification);
  const key = n.id ?? `${n.kind}-${n.ts}`;
  if (seen.has(key)) return;
  seen.add(key);
  recent.unshift(n);
  recent.splice(50);
  for (const fn of recentListeners) fn(n);
  if (location.pathname !== "/notifications") setUnread(unread + 1);
  const target = notificationTarget(n);
  toast(n.body, {
    kind: "alert", title: n.title, image: n.snapshot, timeout: 8000,
    action: n.device_id ? { label: n.kind === "doorbell" && n.data.camera_id ? "Answer" : "View", run: () => navigate(target) } : null,
  });
}

export async function startNotifications() {
  on("notification", deliver);
  try {
    const page = await hub.notifications({ unreadOnly: true });
    for (const r of page.items) seen.add(r.id);
    setUnread(page.unread);
  } catch { /* the notifications API may be absent; toasts still work */ }
}
