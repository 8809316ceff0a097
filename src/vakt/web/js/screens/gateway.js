// Home gateway: link state, LED ring, its locks (G1-G6).
import { h, icon } from "../dom.js";
import { pageHead } from "../components/page-head.js";
import { allDevices, device, subscribe } from "../store.js";
import { deviceCard } from "../components/device-card.js";
import { ledText } from "../panels/led.js";
import { humanize } from "../device-state.js";
import { api } from "../api.js";
import { toast, toastError } from "../toast.js";

export default function gatewayScreen(d) {
  const head = pageHead(d, {
    actions: [d.state && d.state.emulated ? h("a", { class: "btn btn-ghost btn-sm", href: `/devices/${d.id}/panel` }, icon("panel", 16), "Device panel") : null],
  });
  const info = h("div", { class: "list" });
  const locks = h("div", { class: "grid" });
  const render = () => {
    const cur = device(d.id) || d;
    const s = cur.state || {};
    const rows = [
      ["LED ring", ledText(s.led_ring ?? s.led)],
      ["Mode", s.mode ? humanize(s.mode) : "–"],
      ["Network", s.network ? humanize(s.network) : cur.online ? "Connected" : "Offline"],
      ["Firmware", s.firmware || s.version || "–"],
      ["Serial", cur.serial],
    ];
    info.replaceChildren(...rows.map(([k, v]) => h("div", { class: "list-item" }, h("div", { class: "grow meta" }, k), h("div", { class: "title" }, v))));
    const children = allDevices().filter((x) => x.parent_id === d.id);
    locks.replaceChildren(...(children.length ? children.map(deviceCard)
      : [h("div", { class: "card empty", style: { gridColumn: "1 / -1" } }, "No lock paired yet. Add the lock from the device list and choose this gateway.")]));
  };
  render();
  const unsub = subscribe(render);
  const del = h("button", { class: "btn btn-danger btn-sm", onclick: async () => {
    if (!confirm(`Delete ${d.name || d.serial} from your account?`)) return;
    try { await api.del(`/api/devices/${d.id}`); toast("Device deleted.", { kind: "ok" }); history.back(); } catch (err) { toastError(err); }
  } }, icon("trash", 16), "Delete device");
  const el = h("section", {}, head.el,
    h("div", { class: "cols" },
      h("div", { class: "stack" }, h("h2", {}, "Locks on this gateway"), locks),
      h("div", { class: "card" }, h("div", { class: "card-title" }, h("h3", {}, "Gateway")), info,
        d.is_owner !== false ? h("div", { class: "row end", style: { marginTop: "12px" } }, del) : null)));
  return { el, title: d.name || "Gateway", destroy: () => { unsub(); head.destroy(); } };
}
