// Home gateway: network, LED ring, mode, firmware, its locks and their radio links (G1-G6).
import { h, icon } from "../dom.js";
import { deviceAbout } from "../components/device-about.js";
import { pageHead } from "../components/page-head.js";
import { allDevices, device, loadDevices, subscribe } from "../store.js";
import { deviceCard } from "../components/device-card.js";
import { ledText } from "../panels/led.js";
import { rssiLabel } from "../device-state.js";
import { api } from "../api.js";
import { can } from "../perms.js";
import { toast, toastError } from "../toast.js";

/**
 * The gateway's retained state as its emulator publishes it (vakt.gateway.service.Gateway.state).
 * @typedef {{phase?: string, panel?: {led?: string, prompt?: string|null}, network?: {wired?: boolean, wifi_ssid?: string|null},
 *   firmware?: string, paired_locks?: string[], outbox_pending?: number|null}} GatewayState
 * A lock's radio link as its gateway measures it (G6, vakt.gateway.relay.LockRelay.state).
 * @typedef {{rssi_dbm?: number, frame_loss?: number, messages?: number, lost_messages?: number, distance_m?: number, walls?: number, metal?: number}} LinkState
 */

const PHASES = {
  off: "Powered off", booting: "Starting up (G1)", setup: "Network set-up mode (G1)",
  connecting: "Connecting to the hub", online: "Online", disconnected: "Hub unreachable",
};
const HISTORY = 60; // RSSI samples kept per lock while this screen is open

/** @param {GatewayState["network"]} n */
export function networkText(n) {
  if (!n) return "Not reported";
  if (n.wired) return "Wired (router LAN port)";
  if (n.wifi_ssid) return `Wi-Fi “${n.wifi_ssid}”`;
  return "Not set up: waiting for a cable or Wi-Fi (G2)";
}

function sparkline(samples) {
  const w = 180, hgt = 36, lo = -100, hi = -40;
  const pts = samples.map((v, i) => `${(i / Math.max(1, HISTORY - 1)) * w},${hgt - ((Math.max(lo, Math.min(hi, v)) - lo) / (hi - lo)) * hgt}`);
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", `0 0 ${w} ${hgt}`);
  svg.setAttribute("width", String(w));
  svg.setAttribute("height", String(hgt));
  svg.setAttribute("class", "sparkline");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `RSSI history: ${samples.join(", ")} dBm`);
  const line = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
  line.setAttribute("points", pts.join(" "));
  line.setAttribute("fill", "none");
  line.setAttribute("stroke", "currentColor");
  line.setAttribute("stroke-width", "2");
  svg.append(line);
  return svg;
}

export default function gatewayScreen(d) {
  const head = pageHead(d, {
    actions: [
      d.is_owner !== false ? h("a", { class: "btn btn-ghost btn-sm", href: `/devices/${d.id}/share`, id: "share-link" }, icon("share", 16), "Share") : null,
      d.state && d.state.emulated && can(d, "settings") ? h("a", { class: "btn btn-ghost btn-sm", href: `/devices/${d.id}/panel` }, icon("panel", 16), "Device panel") : null,
    ],
  });
  const info = h("div", { class: "list", id: "gateway-info" });
  const links = h("div", { class: "list", id: "gateway-links" });
  const locks = h("div", { class: "grid" });
  /** @type {Map<number, number[]>} */
  const rssiHistory = new Map();
  const row = (key, label, value) => h("div", { class: "list-item", dataset: { row: key } },
    h("div", { class: "grow meta" }, label), h("div", { class: "title" }, value));
  const render = () => {
    const cur = device(d.id) || d;
    /** @type {GatewayState} */
    const s = cur.state || {};
    const rows = [
      row("network", "Network", cur.online ? networkText(s.network) : "Offline"),
      row("led", "LED ring", ledText(s.panel && s.panel.led)),
      row("mode", "Mode", PHASES[s.phase] || (s.phase ?? "Not reported")),
      row("firmware", "Firmware", s.firmware || "Not reported by this gateway"),
      row("queued", "Messages waiting for the hub", s.outbox_pending == null ? "Not reported" : String(s.outbox_pending)),
      row("serial", "Serial", cur.serial),
    ];
    info.replaceChildren(...rows);
    const children = allDevices().filter((x) => x.parent_id === d.id);
    locks.replaceChildren(...(children.length ? children.map(deviceCard)
      : [h("div", { class: "card empty", style: { gridColumn: "1 / -1" } }, "No lock paired yet. Add the lock from the device list and choose this gateway.")]));
    links.replaceChildren(...(children.length ? children.map((lock) => {
      /** @type {LinkState} */
      const link = (lock.state && lock.state.link) || {};
      if (typeof link.rssi_dbm === "number") {
        const samples = rssiHistory.get(lock.id) || [];
        samples.push(link.rssi_dbm);
        rssiHistory.set(lock.id, samples.slice(-HISTORY));
      }
      const [quality] = rssiLabel(link.rssi_dbm) || ["Not reported"];
      const samples = rssiHistory.get(lock.id) || [];
      return h("div", { class: "list-item", dataset: { link: lock.id } },
        h("div", { class: "grow" }, h("div", { class: "title" }, lock.name || lock.serial),
          h("div", { class: "meta", dataset: { field: "rssi" } }, typeof link.rssi_dbm === "number" ? `RSSI ${link.rssi_dbm} dBm · ${quality}` : "RSSI not reported"),
          h("div", { class: "meta", dataset: { field: "lost" } }, link.messages === undefined ? "" :
            `Lost messages ${link.lost_messages ?? 0} of ${link.messages} · frame loss ${((link.frame_loss ?? 0) * 100).toFixed(1)} %`),
          link.distance_m === undefined ? null : h("div", { class: "meta" }, `Placement: ${link.distance_m} m, ${link.walls ?? 0} wall(s), ${link.metal ?? 0} metal obstacle(s) (G6: central, none in between)`)),
        samples.length > 1 ? sparkline(samples) : null);
    }) : [h("div", { class: "meta" }, "No lock on this gateway.")]));
  };
  render();
  const unsub = subscribe(render);
  loadDevices().catch(() => {}); // its locks: the list may not be loaded when the app opens on this screen
  const del = h("button", { class: "btn btn-danger btn-sm", onclick: async () => {
    if (!confirm(`Delete ${d.name || d.serial} from your account?`)) return;
    try { await api.del(`/api/devices/${d.id}`); toast("Device deleted.", { kind: "ok" }); history.back(); } catch (err) { toastError(err); }
  } }, icon("trash", 16), "Delete device");
  const el = h("section", {}, head.el,
    h("div", { class: "cols" },
      h("div", { class: "stack" }, h("h2", {}, "Locks on this gateway"), locks,
        h("div", { class: "card" }, h("div", { class: "card-title" }, h("h3", {}, "Radio links (G6)")), links)),
      h("div", { class: "stack" }, h("div", { class: "card" }, h("div", { class: "card-title" }, h("h3", {}, "Gateway")), info,
        d.is_owner !== false ? h("div", { class: "row end", style: { marginTop: "12px" } }, del) : null), deviceAbout(d).el)));
  return { el, title: d.name || "Gateway", destroy: () => { unsub(); head.destroy(); } };
}
