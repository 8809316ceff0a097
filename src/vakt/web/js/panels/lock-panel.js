// The lock as a person sees it (spec/lock.md): front panel with fingerprint pad, keypad, card reader and
// doorbell; back panel with inside knob, privacy button and RESET. Inputs go to the emulator; outputs
// (display, blinking digits, prompt, LEDs, motor) come from the state pushed over /api/ws.
import { h, icon } from "../dom.js";
import { lockState, operatingMode } from "../device-state.js";
import { press } from "./panel-api.js";
import { modeLabel, promptLabel } from "../lock-labels.js";

const FINGERS = [
  ["alice-thumb", "Alice · thumb"],
  ["alice-index", "Alice · index finger"],
  ["bob-thumb", "Bob · thumb"],
  ["bob-index", "Bob · index finger"],
  ["carol-thumb", "Carol · thumb"],
  ["stranger-thumb", "A stranger · thumb"],
];
const CARDS = [["04A1B2C3", "Card 1 · 04A1B2C3"], ["04D4E5F6", "Card 2 · 04D4E5F6"], ["0BADCAFE", "Unknown card · 0BADCAFE"]];

export function lockPanel(d) {
  const display = h("div", { class: "panel-display", id: "lock-display", "aria-live": "polite" }, "");
  const prompt = h("div", { class: "prompt-line", id: "lock-prompt" });
  const ledOk = h("span", { class: "led green", title: "green LED" });
  const ledBad = h("span", { class: "led red", title: "red LED" });
  const ledLock = h("span", { class: "led blue", title: "lock LED" });
  const keypad = h("div", { class: "keypad", id: "keypad" },
    ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"].map((k) =>
      h("button", { type: "button", dataset: { key: k }, "aria-label": `key ${k}`, onclick: (ev) => key(k, ev.currentTarget) }, k)));
  const key = (k, btn) => {
    btn.classList.add("pressed");
    setTimeout(() => btn.classList.remove("pressed"), 120);
    press(d.id, "key", k);
  };
  // Touching the keypad area (not a key) wakes the lock, as on the real panel (L3.1).
  keypad.addEventListener("click", (ev) => { if (ev.target === keypad) press(d.id, "touch", null); });
  display.addEventListener("click", () => press(d.id, "touch", null));
  display.title = "Touch the keypad area to wake it";
  const fpPad = h("button", { class: "fp-pad", id: "fingerprint", title: "Touch the sensor with the chosen finger" }, icon("shield", 28));
  const fingerSel = h("select", { class: "input face-select", id: "finger-select", "aria-label": "Finger" },
    FINGERS.map(([v, l]) => h("option", { value: v }, l)));
  fpPad.addEventListener("click", () => press(d.id, "finger", fingerSel.value));
  const cardSel = h("select", { class: "input face-select", id: "card-select", "aria-label": "Card" },
    CARDS.map(([v, l]) => h("option", { value: v }, l)));
  const cardBtn = h("button", { class: "hw-btn", id: "card-tap", onclick: () => press(d.id, "card", cardSel.value) }, "Tap card");
  const bell = h("button", { class: "hw-btn round", id: "doorbell", title: "Doorbell", onclick: () => press(d.id, "bell", null) }, icon("bell", 22));

  const front = h("div", { class: "device-face", id: "lock-front" },
    h("div", { class: "face-label" }, "Outside"),
    fpPad, fingerSel,
    display,
    keypad,
    h("div", { class: "led-row" }, ledOk, ledLock, ledBad),
    prompt,
    h("div", { class: "row", style: { justifyContent: "center" } }, cardSel, cardBtn),
    bell);

  // The front panel comes off (tamper alarm, L10.1) and goes back on: one button that says which.
  let panelOff = false;
  const tamper = h("button", { class: "hw-btn small", id: "tamper", onclick: () => press(d.id, panelOff ? "replace_front_panel" : "tamper", panelOff ? null : "on") });
  // RESET held by hand: the prompt and the blinking 5 come while it is held (L12.2); release ends the hold.
  const resetHold = h("button", { class: "hw-btn small", id: "reset-hold", title: "Press and hold: after 3 s the lock enters pairing (L12.2)" }, "Hold RESET");
  let held = false;
  const releaseReset = () => { if (held) { held = false; resetHold.classList.remove("pressed"); press(d.id, "reset_up", null); } };
  resetHold.addEventListener("pointerdown", (ev) => { ev.preventDefault(); held = true; resetHold.classList.add("pressed"); press(d.id, "reset_down", null); });
  for (const type of ["pointerup", "pointerleave", "pointercancel"]) resetHold.addEventListener(type, releaseReset);
  const motor = h("div", { class: "chip", id: "motor-state" });
  const mode = h("div", { class: "chip", id: "operating-mode" });
  const back = h("div", { class: "device-face", id: "lock-back" },
    h("div", { class: "face-label" }, "Inside"),
    h("div", { class: "row", style: { justifyContent: "center" } }, motor, mode),
    h("button", { class: "hw-btn", id: "knob", onclick: () => press(d.id, "knob", null) }, "Turn inside knob"),
    h("button", { class: "hw-btn", id: "privacy", onclick: () => press(d.id, "privacy", null) }, "Privacy button"),
    h("div", { class: "row", style: { justifyContent: "center" } },
      resetHold,
      h("button", { class: "hw-btn small", id: "reset-3s", title: "Hold RESET 3 s: pairing (L12.2)", onclick: () => press(d.id, "reset", 3) }, "RESET 3 s"),
      h("button", { class: "hw-btn small", id: "reset-5s", title: "Hold RESET 5 s while inserting batteries: factory reset (L12.1)", onclick: () => press(d.id, "reset", 5) }, "RESET 5 s")),
    h("div", { class: "row", style: { justifyContent: "center" } },
      tamper,
      h("button", { class: "hw-btn small", id: "key-turn", title: "Mechanical key", onclick: () => press(d.id, "mechanical_key", null) }, "Use key")));

  const update = (cur) => {
    const s = cur.state || {};
    const disp = s.display || {};
    const awake = Boolean(disp.lit);
    keypad.classList.toggle("awake", awake);
    const text = disp.text ?? "";
    display.textContent = text === "" || text === null ? (awake ? "····" : "") : String(text);
    display.classList.toggle("blink", Boolean(disp.blinking));
    display.classList.toggle("off", !awake);
    const prompts = s.last_prompts || [];
    panelOff = Boolean(s.front_panel_removed);
    tamper.textContent = panelOff ? "Put front panel back" : "Remove front panel";
    tamper.title = panelOff ? "Put the front panel back on: the keypad works again" : "Force the front panel off (L10.1)";
    const lastPrompt = prompts[prompts.length - 1];
    prompt.textContent = panelOff ? "Front panel removed: the keypad does not respond"
      : s.pairing_mode ? promptLabel("pairing")
      // the lock's last prompts belong to the current wake (a new wake starts silent): never an old one
      : awake ? (lastPrompt ? promptLabel(lastPrompt) : "") : "Keypad asleep: touch it to wake";
    const ls = lockState(cur) || "unknown";
    const alarmOn = (s.alarms || []).length > 0;
    const failed = prompts.includes("failure") || prompts.includes("locked_out");
    ledOk.classList.toggle("on", ls === "unlocked");
    ledBad.classList.toggle("on", alarmOn || failed);
    ledLock.classList.toggle("on", awake);
    motor.textContent = `Bolt: ${ls}`;
    motor.className = `chip ${ls === "locked" ? "ok" : ls === "unlocked" ? "warn" : ""}`;
    mode.textContent = `Mode: ${modeLabel(operatingMode(cur) || "Normal")}`;
  };
  update(d);
  return { el: h("div", { class: "panels" }, front, back), update };
}
