// The camera's body (spec/camera.md C1, C2, C9): status LED, spotlight, siren, RESET button.
import { h } from "../dom.js";
import { press } from "./panel-api.js";
import { ledClasses, ledText } from "./led.js";

export function cameraPanel(d) {
  const led = h("span", { class: "led", id: "camera-led" });
  const ledLabel = h("div", { class: "face-label", id: "camera-led-text" });
  const spotL = h("div", { class: "spot" });
  const spotR = h("div", { class: "spot" });
  const siren = h("div", { class: "siren-ind", id: "camera-siren" }, "SIREN");
  const face = h("div", { class: "device-face cam-face", id: "camera-face" },
    h("div", { class: "face-label" }, "Camera"),
    h("div", { class: "row", style: { justifyContent: "center", gap: "18px" } }, spotL, h("div", { class: "lens" }), spotR),
    h("div", { class: "led-row" }, led), ledLabel, siren,
    h("button", { class: "hw-btn", id: "camera-reset", title: "Hold about 4 s: factory defaults (C2.1)", onclick: () => press(d.id, "reset", 4) }, "Hold RESET 4 s"));
  const update = (cur) => {
    const s = cur.state || {};
    const l = s.led ?? s.status_led ?? (s.panel || {}).led;
    led.className = ledClasses("led", l);
    ledLabel.textContent = `Status LED: ${ledText(l)}`;
    const spot = s.spotlight ?? (s.panel || {}).spotlight;
    const on = typeof spot === "object" && spot ? Boolean(spot.on ?? spot.active) : Boolean(spot);
    const strobe = typeof spot === "object" && spot ? Boolean(spot.flashing || spot.strobe || spot.mode === "flash") : spot === "flash";
    for (const el of [spotL, spotR]) { el.classList.toggle("on", on); el.classList.toggle("strobe", strobe); }
    const sir = s.siren ?? (s.panel || {}).siren;
    siren.classList.toggle("on", Boolean(typeof sir === "object" && sir ? sir.on ?? sir.active : sir));
  };
  update(d);
  return { el: h("div", { class: "panels" }, face), update };
}
