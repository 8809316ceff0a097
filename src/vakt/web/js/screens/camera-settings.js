// Camera settings (C6, C8): every field of the CameraSettings model, plus restart, Wi-Fi, storage, delete.
import { api, hub } from "../api.js";
import { deviceAbout } from "../components/device-about.js";
import { can } from "../perms.js";
import { h, icon } from "../dom.js";
import { pageHead } from "../components/page-head.js";
import { schemaRows, ungrouped } from "../components/schema-form.js";
import { storageCard } from "../components/storage-card.js";
import { busy, dialog, field, input } from "../form.js";
import { device, loadDevice, removeDevice, subscribe, upsertDevice } from "../store.js";
import { navigate } from "../router.js";
import { toast, toastError } from "../toast.js";

const GROUPS = [
  ["Video and sound", ["audio", "flip_image", "status_light"]],
  ["Detection and alerts", ["intelligent_human_detection", "detection_sensitivity", "alarm_notification", "offline_notification", "motion_recording"]],
  ["Date and time", ["time_zone", "date_format"]],
  ["Privacy", ["image_encryption"]],
  ["About", ["name", "location", "device_version"]],
];


// C3.3: where the camera is connected now, from its pushed state.
function networkText(d) {
  const s = (d && d.state) || {};
  if (!d || !d.online) return "Offline";
  if (s.setup_mode) return "Waiting for Wi-Fi set-up";
  const ssid = s.wifi && s.wifi.ssid;
  return ssid ? `Online on “${ssid}” (2.4 GHz Wi-Fi)` : "Online";
}

// C3.3: ask for the new network, then the hub takes the camera offline and joins it.
function wifiDialog(d) {
  const ssid = input({ id: "wifi-ssid", name: "ssid", required: true, maxlength: 32, autocomplete: "off" });
  const error = h("p", { class: "form-error" });
  const submit = h("button", { class: "btn btn-primary", type: "submit", id: "wifi-submit" }, "Join network");
  const form = h("form", { class: "stack" },
    h("p", { class: "muted small" }, "The camera goes offline first, then joins the new network (2.4 GHz only). It is back in about a minute."),
    field("Network name (SSID)", ssid), error, h("div", { class: "row end" }, submit));
  const dlg = dialog("Change Wi-Fi", form);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    try {
      await busy(submit, () => hub.changeWifi(d.id, ssid.value.trim()));
      dlg.close();
      toast(`The camera is going offline to join “${ssid.value.trim()}”.`, { kind: "ok" });
    } catch (err) { error.textContent = err.message; }
  });
}

const LED_GUIDE = [
  ["Solid red", "Starting up"], ["Slow-flashing red", "Network exception"], ["Fast-flashing red", "Camera exception (e.g. micro SD error)"],
  ["Solid blue", "Someone is watching live"], ["Slow-flashing blue", "Running normally"], ["Fast-flashing blue", "Ready for Wi-Fi set-up"],
];

function guide() {
  dialog("User guide", h("div", {},
    h("h3", {}, "Status light"),
    h("table", { class: "table" }, LED_GUIDE.map(([a, b]) => h("tr", {}, h("td", {}, a), h("td", { class: "muted" }, b)))),
    h("p", { class: "muted small" }, "Hold RESET about 4 s to restore every setting and restart in set-up mode. A new micro SD card must be initialized before use.")));
}

export default async function cameraSettingsScreen(params) {
  const d = await loadDevice(params.id);
  const head = pageHead(d, { back: `/devices/${d.id}`, sub: "Settings" });
  if (!can(d, "settings")) { // a guest without Settings is told why, and nothing is asked that ends in 403 (A5)
    return { el: h("section", {}, head.el, h("div", { class: "card empty", id: "no-permission" }, icon("lock", 32),
      h("p", {}, "The owner has not shared this camera's settings with you."))), title: d.name || "Settings", destroy: () => head.destroy() };
  }
  const body = h("div", { class: "stack" }, h("div", { class: "card" }, h("div", { class: "skeleton-group" }, h("div", { class: "skeleton" }), h("div", { class: "skeleton" }), h("div", { class: "skeleton" }))));
  const save = async (name, value, revert, commit) => {
    try {
      await hub.saveCameraSettings(d.id, { [name]: value });
      if (commit) commit();
      if (name === "name") upsertDevice({ id: d.id, name: value }); // one name: the device's
      toast("Saved.", { kind: "ok", timeout: 1800 });
    } catch (err) { revert(); toastError(err); }
  };
  try {
    const { schema, values } = await hub.cameraSettings(d.id);
    const groups = [...GROUPS];
    const rest = ungrouped(schema, groups);
    if (rest.length) groups.push(["More", rest]);
    body.replaceChildren(...groups.map(([title, fields]) => h("div", { class: "card", dataset: { group: title } },
      h("div", { class: "card-title" }, h("h3", {}, title)), schemaRows(schema, values, fields, save))));
  } catch (err) {
    body.replaceChildren(h("div", { class: "card empty" }, icon("alert", 32), h("p", {}, `Settings are not available: ${err.message}`)));
  }

  const command = (label, id, run, confirmText, okText) => {
    const btn = h("button", { class: "btn btn-sm", id }, label);
    btn.onclick = async () => {
      if (confirmText && !confirm(confirmText)) return;
      try { await busy(btn, run); toast(okText, { kind: "ok" }); } catch (err) { toastError(err); }
    };
    return btn;
  };
  const del = h("button", { class: "btn btn-sm btn-danger", id: "delete-device" }, icon("trash", 16), "Delete device");
  del.onclick = async () => {
    if (!confirm(`Delete ${d.name || d.serial} from your account? Its recordings on the hub are deleted with it; download any clip you want to keep first.`)) return;
    try { await api.del(`/api/devices/${d.id}`); removeDevice(d.id); toast("Device deleted.", { kind: "ok" }); navigate("/"); } catch (err) { toastError(err); }
  };
  const storage = storageCard(d);
  const network = h("div", { class: "desc", id: "camera-network" }, networkText(d));
  const unsub = subscribe((id) => { if (id === null || id === d.id) network.textContent = networkText(device(d.id)); });
  const emulated = Boolean(d.state && d.state.emulated); // a camera added by RTSP address has no control channel
  const side = h("div", { class: "stack" }, emulated ? storage.el : null, deviceAbout(d, { rename: false }).el,
    h("div", { class: "card" }, h("div", { class: "card-title" }, h("h3", {}, "Device")),
      emulated ? h("div", { class: "setting-row" }, h("div", { class: "grow" }, h("div", { class: "label" }, "Wi-Fi"), network),
        h("button", { class: "btn btn-sm", id: "wifi-change", onclick: () => wifiDialog(d) }, "Change")) : null,
      emulated ? h("div", { class: "setting-row" }, h("div", { class: "grow" }, h("div", { class: "label" }, "Restart")),
        command("Restart", "camera-restart", () => hub.restartCamera(d.id), "Restart the camera?", "The camera is restarting.")) : null,
      h("div", { class: "setting-row" }, h("div", { class: "grow" }, h("div", { class: "label" }, "Serial"), h("div", { class: "desc mono" }, d.serial))),
      h("div", { class: "setting-row" }, h("div", { class: "grow" }, h("div", { class: "label" }, "User guide")),
        h("button", { class: "btn btn-sm btn-ghost", onclick: guide }, "Open")),
      d.is_owner !== false ? h("div", { class: "row end", style: { marginTop: "10px" } }, del) : null));
  const el = h("section", {}, head.el, h("div", { class: "cols" }, body, side));
  return { el, title: "Camera settings", destroy: () => { head.destroy(); storage.destroy(); unsub(); } };
}
