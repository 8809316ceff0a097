// /devices/:id: the screen for the device's kind.
import { h, icon } from "../dom.js";
import { device, loadDevice } from "../store.js";

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
  return mod.default(d, params);
}
