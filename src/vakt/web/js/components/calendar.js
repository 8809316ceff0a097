// A month calendar; days with footage are marked and clickable (C7.2).
import { h, icon, LOCALES } from "../dom.js";

const DOW = ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"];
const iso = (y, m, d) => `${y}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`;

export function calendar({ loadDays, onPick }) {
  const today = new Date();
  let year = today.getFullYear();
  let month = today.getMonth() + 1;
  let selected = iso(year, month, today.getDate());
  const title = h("h3", { class: "grow" });
  const grid = h("div", { class: "calendar", id: "calendar" });
  const render = async () => {
    title.textContent = new Date(year, month - 1, 1).toLocaleDateString(LOCALES, { month: "long", year: "numeric" });
    let days = new Set();
    try { days = new Set(await loadDays(year, month)); } catch { /* shown empty */ }
    const first = (new Date(year, month - 1, 1).getDay() + 6) % 7;
    const count = new Date(year, month, 0).getDate();
    const cells = DOW.map((d) => h("div", { class: "dow" }, d));
    for (let i = 0; i < first; i += 1) cells.push(h("span"));
    for (let d = 1; d <= count; d += 1) {
      const key = iso(year, month, d);
      const has = days.has(key);
      cells.push(h("button", {
        class: [has ? "has" : "", key === selected ? "selected" : "", key === iso(today.getFullYear(), today.getMonth() + 1, today.getDate()) ? "today" : ""].join(" "),
        disabled: !has, dataset: { day: key }, "aria-label": key,
        onclick: () => { selected = key; render(); onPick(key); },
      }, String(d)));
    }
    grid.replaceChildren(...cells);
  };
  const shift = (n) => { month += n; if (month < 1) { month = 12; year -= 1; } if (month > 12) { month = 1; year += 1; } render(); };
  const el = h("div", { class: "card" },
    h("div", { class: "card-title" }, title,
      h("button", { class: "icon-btn", "aria-label": "Previous month", onclick: () => shift(-1) }, icon("back", 18)),
      h("button", { class: "icon-btn", "aria-label": "Next month", style: { transform: "scaleX(-1)" }, onclick: () => shift(1) }, icon("back", 18))),
    grid);
  render();
  return { el, refresh: render, selected: () => selected };
}
