// A device's name, room and About (C6): model, serial, firmware, where it is installed and, for its owner
// alone, the QR label's payload to add it again (it holds the verification code, A2).
import { hub } from "../api.js";
import { h, LOCALES } from "../dom.js";
import { allDevices, kindLabel, upsertDevice } from "../store.js";
import { can } from "../perms.js";
import { toast, toastError } from "../toast.js";

/** Rooms already in use, for the room field's suggestions. */
export function knownRooms() {
  return [...new Set(allDevices().map((x) => x.room).filter(Boolean))].sort((a, b) => a.localeCompare(b, LOCALES));
}

/** @param {import("../api.js").Device} d @param {{rename?: boolean}} [opts] rename: a name field (cameras rename in their settings) */
export function deviceAbout(d, { rename = true } = {}) {
  const list = h("div", { class: "list", id: "device-about" });
  const row = (key, label, value) => h("div", { class: "list-item", dataset: { about: key } },
    h("div", { class: "grow meta" }, label), h("div", { class: "title" }, value));
  const editable = can(d, "settings");
  const save = async (changes, okText) => {
    try {
      upsertDevice(await hub.updateDevice(d.id, changes));
      toast(okText, { kind: "ok", timeout: 1800 });
      load();
    } catch (err) { toastError(err); }
  };
  const rooms = h("datalist", { id: `rooms-${d.id}` }, knownRooms().map((r) => h("option", { value: r })));
  const roomInput = h("input", { class: "input", id: "about-room", list: `rooms-${d.id}`, maxlength: 64, placeholder: "No room", "aria-label": "Room", value: d.room || "" });
  roomInput.addEventListener("change", () => save({ room: roomInput.value.trim() }, roomInput.value.trim() ? `Moved to ${roomInput.value.trim()}.` : "Taken out of its room."));
  const nameInput = h("input", { class: "input", id: "about-name", maxlength: 100, "aria-label": "Name", value: d.name || "" });
  nameInput.addEventListener("change", () => {
    const name = nameInput.value.trim();
    if (!name) { nameInput.value = d.name; toast("A device needs a name.", { kind: "error" }); return; }
    save({ name }, "Renamed.");
  });
  const setting = (label, control) => h("div", { class: "setting-row" }, h("div", { class: "grow" }, h("div", { class: "label" }, label)), control);

  async function load() {
    try {
      const a = await hub.deviceAbout(d.id);
      list.replaceChildren(
        row("kind", "Device", kindLabel[a.kind] || a.kind),
        row("model", "Model", a.model || "Not on its label"),
        row("serial", "Serial", h("span", { class: "mono" }, a.serial)),
        row("firmware", "Firmware", a.firmware || "Not reported by this device"),
        row("room", "Installed in", a.room || "No room chosen"),
        row("added", "Added", new Date(a.added_at).toLocaleDateString(LOCALES, { year: "numeric", month: "short", day: "numeric" })),
        a.qr ? h("div", { class: "list-item", dataset: { about: "qr" } },
          h("div", { class: "grow" }, h("div", { class: "meta" }, "QR label (to add it again; keep it private: it holds the verification code)"),
            h("code", { class: "mono small", id: "device-qr", style: { wordBreak: "break-all" } }, a.qr)),
          h("button", { class: "btn btn-sm btn-ghost", type: "button", onclick: () => navigator.clipboard?.writeText(a.qr).then(() => toast("Copied.", { kind: "ok", timeout: 1500 }), () => {}) }, "Copy")) : null);
    } catch (err) {
      list.replaceChildren(h("div", { class: "empty" }, `About is not available: ${err.message}`));
    }
  }
  load();
  const el = h("div", { class: "card", id: "device-about-card" },
    h("div", { class: "card-title" }, h("h3", {}, "About")),
    editable && rename ? setting("Name", nameInput) : null,
    editable ? setting("Room", h("div", {}, roomInput, rooms)) : null,
    list);
  return { el, refresh: load };
}
