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
  const inRange = h("div", { class: "card", id: "locks-in-range" });
  const update = (cur) => {
    const s = cur.state || {};
    const led = s.led_ring ?? (s.panel || {}).led ?? s.led;
    ring.className = ledClasses("ring-light", led);
    text.textContent = `LED ring: ${ledText(led)}${s.phase ? ` · ${s.phase}` : ""}`;
    const locks = s.locks_in_range || [];
    inRange.replaceChildren(h("div", { class: "card-title" }, h("h3", {}, "Locks in radio range")),
      ...(locks.length ? locks.map((l) => h("div", { class: "list-item" },
        h("div", { class: "grow" }, h("div", { class: "title mono" }, l.serial),
          h("div", { class: "meta" }, (s.paired_locks || []).includes(l.serial) ? "paired" : l.pairing ? "in pairing mode: add it in the app now" : "not paired")),
        h("button", { class: "btn btn-sm", dataset: { lockSerial: l.serial }, title: "Hold the lock's RESET for 3 s: pairing mode (L12.2)",
          onclick: () => press(d.id, "reset", 3, { device: l.serial }) }, "Hold lock RESET 3 s")))
        : [h("div", { class: "meta" }, "No lock in range.")]));
  };
  update(d);
  return { el: h("div", { class: "panels" }, face, inRange), update };
}
