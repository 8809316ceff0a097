// Service worker at the root scope: shows Web Push notifications (A4) and opens the app on click.
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

// Where a push leads (the same rule as notificationTarget in js/notify.js): the doorbell (X3) opens the
// door camera's live view with talk ready, every other alert its device.
function target(data) {
  const camera = data.data && data.data.camera_id;
  if (data.kind === "doorbell" && camera) return `/devices/${camera}?talk=1`;
  return data.device_id ? `/devices/${data.device_id}` : "/notifications";
}

self.addEventListener("push", (event) => {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch { data = { body: event.data && event.data.text() }; }
  const title = data.title || "vakt";
  const options = {
    body: data.body || data.message || "",
    icon: "/static/icon.svg",
    image: data.snapshot_url || data.image || undefined,
    tag: data.tag || (data.id ? `n-${data.id}` : undefined),
    data: { url: target(data) },
  };
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = (event.notification.data && event.notification.data.url) || "/";
  event.waitUntil((async () => {
    const wins = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
    for (const w of wins) {
      if ("focus" in w) { await w.focus(); if ("navigate" in w) await w.navigate(url); return; }
    }
    await self.clients.openWindow(url);
  })());
});
