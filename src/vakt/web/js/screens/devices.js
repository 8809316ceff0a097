// The device list (A3) with live state, and adding a device by its QR code (A2).
import { h, icon, clear, LOCALES } from "../dom.js";
import { allDevices, loadDevices, subscribe } from "../store.js";
import { deviceCard } from "../components/device-card.js";
import { openAddDevice } from "../components/add-device.js";
import { toastError } from "../toast.js";
import { armingControl } from "../components/arming.js";

export default function devicesScreen() {
  const grid = h("div", { class: "grid", id: "device-grid" },
    Array.from({ length: 3 }, () => h("div", { class: "skeleton skeleton-card" })));
  const addBtn = h("button", { class: "btn btn-primary", id: "add-device", onclick: () => openAddDevice() }, icon("plus", 18), "Add device");
  const el = h("section", {},
    h("div", { class: "page-head" },
      h("div", { class: "grow" }, h("h1", {}, "My home"), h("div", { class: "sub", id: "device-count" }, "Loading devices…")),
      armingControl(), addBtn),
    grid);

  const render = () => {
    const list = allDevices();
    el.querySelector("#device-count").textContent = list.length
      ? `${list.length} device${list.length === 1 ? "" : "s"} · ${list.filter((d) => d.online).length} online`
      : "No devices yet";
    if (!list.length) {
      clear(grid, h("div", { class: "card empty", style: { gridColumn: "1 / -1" } },
        icon("scan", 40), h("h2", {}, "Add your first device"),
        h("p", {}, "Scan the QR code on the camera, the gateway or the lock's battery cover."),
        h("button", { class: "btn btn-primary", onclick: () => openAddDevice() }, icon("plus", 18), "Add device")));
      return;
    }
    // Grouped by room (named rooms in order, then those in none); in a room, locks right after their gateway.
    const rooms = [...new Set(list.map((x) => x.room).filter(Boolean))].sort((a, b) => a.localeCompare(b, LOCALES));
    const groups = [...rooms, ""].map((room) => [room, list.filter((x) => (x.room || "") === room)]).filter(([, xs]) => xs.length);
    const ordered = (xs) => {
      const order = [];
      for (const d of xs.filter((x) => !x.parent_id || !xs.some((p) => p.id === x.parent_id))) {
        order.push(d);
        for (const child of xs.filter((x) => x.parent_id === d.id)) order.push(child);
      }
      return order;
    };
    if (!rooms.length) { clear(grid, ordered(list).map(deviceCard)); return; }
    clear(grid, groups.flatMap(([room, xs]) => [
      h("h2", { class: "room-title", dataset: { room }, style: { gridColumn: "1 / -1", margin: "8px 0 0" } }, room || "No room"),
      ...ordered(xs).map(deviceCard)]));
  };

  const unsub = subscribe(render);
  loadDevices(true).then(render).catch((err) => {
    toastError(err);
    clear(grid, h("div", { class: "card empty", style: { gridColumn: "1 / -1" } }, icon("alert", 36),
      h("p", {}, err.message), h("button", { class: "btn", onclick: () => location.reload() }, "Retry")));
  });
  return { el, title: "Devices", destroy: unsub };
}
