// The home gateway (spec/home.md G): LED ring and the function button (G1, G3).
import { h } from "../dom.js";
import { press } from "./panel-api.js";
import { ledClasses, ledText } from "./led.js";

export function gatewayPanel(d) {
  const ring = h("div", { class: "ring-light", id: "gateway-ring" });
  const text = h("div", { class: "face-label", id: "gateway-ring-text" });
  const face = h("div", { class: "device-face cam-face", id: "gateway-face" },
    h("div", { class: "face-label" }, "Home gateway"),
    h("div", { class: "ring" }, ring), text,
    h("div", { class: "row", style: { justifyContent: "center" } },
      h("button", { class: "hw-btn", id: "function-button", onclick: () => press(d.id, "function_button", 1) }, "Press function"),
      h("button", { class: "hw-btn", id: "function-hold", title: "Hold more than 4 s: offline for Wi-Fi change (G3)", onclick: () => press(d.id, "function_button", 5) }, "Hold 5 s")));
  const update = (cur) => {
    const s = cur.state || {};
    const led = s.led_ring ?? s.led ?? (s.panel || {}).led_ring;
    ring.className = ledClasses("ring-light", led);
    text.textContent = `LED ring: ${ledText(led)}`;
  };
  update(d);
  return { el: h("div", { class: "panels" }, face), update };
}
