// Toasts: short messages stacked at the bottom; an optional image and action.
import { h, icon } from "./dom.js";

let region;
function host() {
  if (!region) {
    region = h("div", { class: "toasts", role: "status", "aria-live": "polite" });
    document.body.append(region);
  }
  return region;
}

export function toast(message, { kind = "info", image, title, action, timeout = 4500 } = {}) {
  const close = () => {
    el.classList.add("leaving");
    setTimeout(() => el.remove(), 200);
  };
  const el = h("div", { class: `toast toast-${kind}`, dataset: { kind } },
    image ? h("img", { class: "toast-image", src: image, alt: "" }) : null,
    h("div", { class: "toast-body" },
      title ? h("strong", { class: "toast-title" }, title) : null,
      h("span", { class: "toast-text" }, message)),
    action ? h("button", { class: "btn btn-ghost btn-sm", onclick: () => { action.run(); close(); } }, action.label) : null,
    h("button", { class: "icon-btn toast-close", "aria-label": "Dismiss", onclick: close }, icon("close", 16)));
  host().append(el);
  if (timeout) setTimeout(close, timeout);
  return el;
}

export const toastError = (err) => toast(err?.message || String(err), { kind: "error" });
