// Multi-camera live screen with layouts 1, 4 and 9 (C5.1).
import { h, icon } from "../dom.js";
import { allDevices, loadDevices } from "../store.js";
import { livePlayer } from "../components/live-player.js";
import { can } from "../perms.js";

export default async function multiviewScreen() {
  await loadDevices().catch(() => {});
  let layout = Number(localStorage.getItem("layout") || 4);
  let tiles = [];
  const grid = h("div", { class: `multiview l${layout}`, id: "multiview" });
  const render = () => {
    tiles.forEach((t) => t.destroy && t.destroy());
    const cams = allDevices().filter((d) => d.kind === "camera" && can(d, "live_view"));
    grid.className = `multiview l${layout}`;
    tiles = cams.slice(0, layout).map((d) => {
      const t = livePlayer(d, { definition: layout > 1 ? "standard" : undefined });
      t.el.addEventListener("dblclick", () => { location.href = `/devices/${d.id}`; });
      return t;
    });
    const empties = Array.from({ length: Math.max(0, layout - tiles.length) },
      () => ({ el: h("div", { class: "tile-empty" }, "No camera") }));
    grid.replaceChildren(...tiles.map((t) => t.el), ...empties.map((e) => e.el));
    if (!cams.length) grid.replaceChildren(h("div", { class: "card empty" }, icon("camera", 40), h("p", {}, "No cameras to show yet.")));
  };
  const seg = h("div", { class: "segmented", role: "group", "aria-label": "Layout" }, [1, 4, 9].map((n) =>
    h("button", { "aria-pressed": String(n === layout), dataset: { layout: n }, onclick: (ev) => {
      layout = n;
      localStorage.setItem("layout", String(n));
      for (const b of ev.currentTarget.parentElement.children) b.setAttribute("aria-pressed", String(b === ev.currentTarget));
      render();
    } }, `${n}`)));
  render();
  const el = h("section", {},
    h("div", { class: "page-head" }, h("div", { class: "grow" }, h("h1", {}, "Live"), h("div", { class: "sub" }, "All cameras at once · double-click a tile to open it")),
      h("span", { class: "muted small" }, "Layout"), seg),
    grid);
  return { el, title: "Live", destroy: () => tiles.forEach((t) => t.destroy && t.destroy()) };
}
