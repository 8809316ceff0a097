// /devices/:id/panel: the emulated device's physical panel, kept current from pushed state.
import { h, icon } from "../dom.js";
import { device, loadDevice, subscribe } from "../store.js";
import { pageHead } from "../components/page-head.js";
import { lockPanel } from "../panels/lock-panel.js";
import { gatewayPanel } from "../panels/gateway-panel.js";
import { cameraPanel } from "../panels/camera-panel.js";

const BUILDERS = { lock: lockPanel, gateway: gatewayPanel, camera: cameraPanel };

export default async function panelScreen(params) {
  let d;
  try { d = await loadDevice(params.id); } catch (err) {
    return { el: h("div", { class: "card empty" }, icon("alert", 36), h("p", {}, err.message)), title: "Panel" };
  }
  const head = pageHead(d, { back: `/devices/${d.id}`, sub: "Device panel · use the emulated device by hand" });
  const build = BUILDERS[d.kind];
  if (!build || !(d.state && d.state.emulated)) {
    return { el: h("section", {}, head.el, h("div", { class: "card empty" }, "Only emulated devices have a panel here.")), title: "Panel", destroy: head.destroy };
  }
  const p = build(d);
  const unsub = subscribe((id) => {
    if (id !== null && id !== d.id) return;
    const cur = device(d.id);
    if (cur) p.update(cur);
  });
  const el = h("section", {}, head.el, p.el,
    h("p", { class: "muted small", style: { textAlign: "center", marginTop: "20px" } },
      "Inputs go to the emulator through the hub; what the device shows comes back as live state."));
  return { el, title: `${d.name || d.serial} panel`, destroy: () => { unsub(); head.destroy(); } };
}
