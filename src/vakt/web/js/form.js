// Form helpers: labelled fields, busy buttons and inline errors.
import { h } from "./dom.js";

export function field(label, input, hint) {
  return h("label", { class: "field" }, h("span", {}, label), input, hint ? h("span", { class: "hint" }, hint) : null);
}

export function input(props) {
  return h("input", { class: "input", ...props });
}

export function toggle(checked, onchange, label) {
  const box = h("input", { type: "checkbox", checked: Boolean(checked), "aria-label": label, onchange });
  return h("span", { class: "switch" }, box, h("span"));
}

// Runs fn while the button shows a spinner; returns fn's result or throws.
export async function busy(button, fn) {
  button.disabled = true;
  button.classList.add("busy");
  try {
    return await fn();
  } finally {
    button.disabled = false;
    button.classList.remove("busy");
  }
}

export function formValues(form) {
  return Object.fromEntries(new FormData(form).entries());
}

export function dialog(title, body, { onclose } = {}) {
  const dlg = h("dialog", {},
    h("div", { class: "dialog-head" }, h("h2", {}, title),
      h("button", { class: "icon-btn", "aria-label": "Close", onclick: () => dlg.close() }, "✕")),
    h("div", { class: "dialog-body" }, body));
  dlg.addEventListener("close", () => { dlg.remove(); if (onclose) onclose(); });
  document.body.append(dlg);
  dlg.showModal();
  return dlg;
}
