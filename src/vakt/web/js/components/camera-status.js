// What the camera itself reports (C1 LED, C9 siren and spotlight, C4 card recording), live from /api/ws.
import { h } from "../dom.js";
import { device, subscribe } from "../store.js";
import { humanize } from "../device-state.js";
import { ledText } from "../panels/led.js";

export function cameraStatus(d) {
  const list = h("div", { class: "list", id: "camera-status" });
  const row = (k, v) => h("div", { class: "list-item" }, h("div", { class: "grow meta" }, k), h("div", { class: "title" }, v));
  const render = () => {
    const s = (device(d.id) || d).state || {};
    const spot = (s.spotlight || {}).mode || "off";
    const rec = s.recording || {};
    list.replaceChildren(
      row("Status light", ledText(s.led)),
      row("Siren", (s.siren || {}).on ? "Sounding" : "Off"),
      row("Spotlight", humanize(spot)),
      row("Card recording", rec.on ? `On (${humanize(rec.reason || "")})` : "Off"),
      row("Firmware", s.firmware || "–"));
  };
  render();
  const unsub = subscribe((id) => { if (id === null || id === d.id) render(); });
  return { el: h("div", { class: "card" }, h("div", { class: "card-title" }, h("h3", {}, "Camera")), list), destroy: unsub };
}
