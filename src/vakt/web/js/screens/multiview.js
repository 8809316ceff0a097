// Multi-camera live screen (C5.1): layouts 1, 4 and 9; each tile's camera is chosen (kept in this
// browser), a tile opens full screen, a double-click opens the camera.
import { h, icon } from "../dom.js";
import { allDevices, loadDevices } from "../store.js";
import { livePlayer } from "../components/live-player.js";
import { can } from "../perms.js";

const LAYOUTS = [1, 4, 9];

/** @returns {(number|null)[]} the camera chosen for each tile, by device id (null: empty) */
function savedChoice() {
  try {
    const v = JSON.parse(localStorage.getItem("tiles") || "null");
    return Array.isArray(v) ? v.map((x) => (typeof x === "number" ? x : null)) : [];
  } catch { return []; }
}

export default async function multiviewScreen() {
  await loadDevices().catch(() => {});
  let layout = Number(localStorage.getItem("layout") || 4);
  if (!LAYOUTS.includes(layout)) layout = 4;
  let tiles = [];
  const grid = h("div", { class: `multiview l${layout}`, id: "multiview" });
  const cameras = () => allDevices().filter((d) => d.kind === "camera" && can(d, "live_view"));

  // Tiles without a saved choice get the cameras not shown elsewhere, in order.
  const choice = () => {
    const cams = cameras();
    const ids = new Set(cams.map((d) => d.id));
    // null: emptied on purpose; undefined: not chosen (or that camera is gone)
    const saved = savedChoice().slice(0, layout).map((id) => (id === null ? null : ids.has(id) ? id : undefined));
    const used = new Set(saved.filter((x) => typeof x === "number"));
    const rest = cams.map((d) => d.id).filter((id) => !used.has(id));
    return Array.from({ length: layout }, (_, i) => (saved[i] !== undefined ? saved[i] : rest.shift() ?? null));
  };
  const choose = (index, id) => {
    const now = choice();
    now[index] = id;
    localStorage.setItem("tiles", JSON.stringify(now));
    render();
  };

  const tile = (index, id, cams) => {
    const picker = h("select", { class: "input tile-pick", "aria-label": `Camera in tile ${index + 1}`, dataset: { tile: index } },
      h("option", { value: "" }, "— empty —"),
      cams.map((d) => h("option", { value: String(d.id), selected: d.id === id }, d.name || d.serial)));
    picker.onchange = () => choose(index, picker.value ? Number(picker.value) : null);
    const cam = cams.find((d) => d.id === id);
    const player = cam ? livePlayer(cam, { definition: layout > 1 ? "standard" : undefined }) : null;
    const body = player ? player.el : h("div", { class: "tile-empty" }, "No camera");
    const full = h("button", { class: "icon-btn", type: "button", title: "Full screen", "aria-label": "Full screen",
      disabled: !player, onclick: () => body.requestFullscreen && body.requestFullscreen().catch(() => {}) }, icon("fullscreen", 16));
    if (player && cam) player.el.addEventListener("dblclick", () => { location.href = `/devices/${cam.id}`; });
    return { el: h("div", { class: "tile", dataset: { tile: index } }, body, h("div", { class: "row tile-bar" }, picker, full)),
      destroy: () => player && player.destroy() };
  };

  const render = () => {
    tiles.forEach((t) => t.destroy());
    const cams = cameras();
    grid.className = `multiview l${layout}`;
    if (!cams.length) {
      tiles = [];
      grid.replaceChildren(h("div", { class: "card empty" }, icon("camera", 40), h("p", {}, "No cameras to show yet.")));
      return;
    }
    tiles = choice().map((id, i) => tile(i, id, cams));
    grid.replaceChildren(...tiles.map((t) => t.el));
  };
  const seg = h("div", { class: "segmented", role: "group", "aria-label": "Layout" }, LAYOUTS.map((n) =>
    h("button", { "aria-pressed": String(n === layout), dataset: { layout: n }, onclick: (ev) => {
      layout = n;
      localStorage.setItem("layout", String(n));
      for (const b of ev.currentTarget.parentElement.children) b.setAttribute("aria-pressed", String(b === ev.currentTarget));
      render();
    } }, `${n}`)));
  render();
  const el = h("section", {},
    h("div", { class: "page-head" }, h("div", { class: "grow" }, h("h1", {}, "Live"), h("div", { class: "sub" }, "Choose a camera for each tile · double-click a tile to open it")),
      h("span", { class: "muted small" }, "Layout"), seg),
    grid);
  return { el, title: "Live", destroy: () => tiles.forEach((t) => t.destroy()) };
}
