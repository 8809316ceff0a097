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
    h("button", { class: "hw-btn", id: "camera-reset", title: "Hold about 4 s: factory defaults (C2.1)", onclick: () => press(d.id, "reset_hold", null, { seconds: 4 }) }, "Hold RESET 4 s"),
    h("div", { class: "row", style: { justifyContent: "center" } },
      h("button", { class: "hw-btn small", id: "sd-insert", title: "Insert a new 32 GB card (C4.1)", onclick: () => press(d.id, "sd_insert", null) }, "Insert SD"),
      h("button", { class: "hw-btn small", id: "sd-remove", onclick: () => press(d.id, "sd_remove", null) }, "Remove SD"),
      h("button", { class: "hw-btn small", id: "sd-fault", title: "Card fault: LED fast-flashing red (C4.4)", onclick: () => press(d.id, "sd_fault", null) }, "SD fault")),
    h("div", { class: "row", style: { justifyContent: "center" } },
      h("button", { class: "hw-btn small", id: "net-drop", title: "Network down for 20 s (LED slow-flashing red)", onclick: () => press(d.id, "network", "off", { seconds: 20 }) }, "Drop network 20 s"),
      // after RESET the camera waits in set-up mode (fast blue) until it joins a network (C2.1, C3.1)
      h("button", { class: "hw-btn small", id: "ethernet", title: "Plug in the Ethernet cable: joins the wired network, leaving set-up mode (C3.1)", onclick: () => press(d.id, "ethernet", null) }, "Plug in Ethernet")));
  const update = (cur) => {
    const s = cur.state || {};
    const l = s.led; // vakt.camera.led.Led: "slow_blue", "fast_red", ...
    led.className = ledClasses("led", l);
    ledLabel.textContent = `Status LED: ${ledText(l)}`;
    const mode = (s.spotlight && s.spotlight.mode) || "off"; // the camera's spotlight: {mode}
    const on = mode !== "off";
    const strobe = mode.startsWith("flash");
    for (const el of [spotL, spotR]) { el.classList.toggle("on", on); el.classList.toggle("strobe", strobe); }
    siren.classList.toggle("on", Boolean(s.siren && s.siren.on)); // the camera's siren: {on, until}
  };
  update(d);
  return { el: h("div", { class: "panels" }, face), update };
}
