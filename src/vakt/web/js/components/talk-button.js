// Press and hold to talk (C5.3): pointer or keyboard (Space/Enter) held down.
import { h, icon } from "../dom.js";
import { Talk } from "../talk.js";
import { toast } from "../toast.js";

export function talkButton(d, { disabled } = {}) {
  const talk = new Talk(d.id);
  const btn = h("button", { class: "ctl", id: "talk", disabled, title: disabled ? "You don't have the talk permission" : "Press and hold to talk" },
    icon("mic", 22), h("span", {}, "Hold to talk"));
  const label = btn.querySelector("span");
  const down = (ev) => {
    ev.preventDefault();
    if (btn.disabled || talk.active) return;
    btn.classList.add("talking");
    label.textContent = "Talking…";
    talk.start();
  };
  const up = () => {
    if (!talk.active) return;
    talk.stop();
  };
  talk.addEventListener("stopped", () => { btn.classList.remove("talking"); label.textContent = "Hold to talk"; });
  talk.addEventListener("error", (ev) => toast(ev.detail, { kind: "error", title: "Talk" }));
  btn.addEventListener("pointerdown", (ev) => { btn.setPointerCapture(ev.pointerId); down(ev); });
  btn.addEventListener("pointerup", up);
  btn.addEventListener("pointercancel", up);
  btn.addEventListener("keydown", (ev) => { if ((ev.key === " " || ev.key === "Enter") && !ev.repeat) down(ev); });
  btn.addEventListener("keyup", (ev) => { if (ev.key === " " || ev.key === "Enter") up(); });
  btn.addEventListener("contextmenu", (ev) => ev.preventDefault());
  return { el: btn, destroy: () => talk.stop() };
}
