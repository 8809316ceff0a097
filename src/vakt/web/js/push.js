// Web Push (A4): the service worker at /sw.js and a subscription registered with the hub.
import { api } from "./api.js";

function b64ToBytes(b64) {
  const pad = "=".repeat((4 - (b64.length % 4)) % 4);
  const raw = atob((b64 + pad).replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

export async function pushState() {
  if (!("serviceWorker" in navigator) || !("PushManager" in window)) {
    return { supported: false, reason: "This browser does not support push notifications." };
  }
  if (!window.isSecureContext) return { supported: false, reason: "Push needs HTTPS (or localhost)." };
  const reg = await navigator.serviceWorker.getRegistration("/");
  const sub = reg ? await reg.pushManager.getSubscription() : null;
  return { supported: true, subscribed: Boolean(sub) };
}

export async function subscribePush() {
  const perm = await Notification.requestPermission();
  if (perm !== "granted") throw new Error("Notifications are blocked for this site.");
  const reg = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
  await navigator.serviceWorker.ready;
  const { public_key: key } = await api.get("/api/push/vapid-public-key");
  const sub = await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: b64ToBytes(key) });
  await api.post("/api/push/subscriptions", sub.toJSON());
}

export async function unsubscribePush() {
  const reg = await navigator.serviceWorker.getRegistration("/");
  const sub = reg && (await reg.pushManager.getSubscription());
  if (!sub) return;
  await api.del("/api/push/subscriptions", { endpoint: sub.endpoint }).catch(() => {});
  await sub.unsubscribe();
}
