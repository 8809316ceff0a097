// /devices/:id: the screen for the device's kind.
import { h, icon } from "../dom.js";
import { device, loadDevice } from "../store.js";
import { can } from "../perms.js";

export default async function deviceScreen(params) {
  let d = device(params.id);
  try {
    d = await loadDevice(params.id);
  } catch (err) {
    if (!d) {
      return { el: h("div", { class: "card empty" }, icon("alert", 36), h("h2", {}, "Device not available"),
        h("p", {}, err.message), h("a", { class: "btn", href: "/" }, "Back to devices")), title: "Not found" };
    }
  }
  const mod = d.kind === "camera" ? await import("./camera.js")
    : d.kind === "lock" ? await import("./lock.js") : await import("./gateway.js");
  const screen = await mod.default(d, params);
  // Every kind can be shared from its screen (A5); the lock screen has no link of its own.
  const head = screen.el && screen.el.querySelector(".page-head");
  if (screen.el && !can(d, "settings")) { // the hand panel needs the owner or "settings" (A5): no button that ends in 403
    for (const a of screen.el.querySelectorAll('a[href$="/panel"]')) a.remove();
  }
  if (head && d.is_owner !== false && !screen.el.querySelector('a[href$="/share"]')) {
    head.append(h("a", { class: "btn btn-ghost btn-sm", href: `/devices/${d.id}/share`, id: "share-link" }, icon("share", 16), "Share"));
  }
  return screen;
}
