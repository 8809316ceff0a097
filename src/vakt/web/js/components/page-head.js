// The header of a device screen: back, name, live chips and actions.
import { h, icon } from "../dom.js";
import { stateChips } from "./device-card.js";
import { subscribe, device } from "../store.js";

export function pageHead(d, { back = "/", actions = [], sub } = {}) {
  const chips = h("div", { class: "device-stats" }, stateChips(d));
  const title = h("h1", {}, d.name || d.serial);
  const el = h("div", { class: "page-head" },
    h("a", { class: "icon-btn back", href: back, "aria-label": "Back" }, icon("back")),
    h("div", { class: "grow" }, title,
      h("div", { class: "sub" }, sub || [d.model, d.serial].filter(Boolean).join(" · "))),
    chips, actions);
  const unsub = subscribe((id) => {
    if (id !== null && id !== d.id) return;
    const cur = device(d.id);
    if (!cur) return;
    chips.replaceChildren(...stateChips(cur));
    title.textContent = cur.name || cur.serial;
  });
  return { el, destroy: unsub };
}
