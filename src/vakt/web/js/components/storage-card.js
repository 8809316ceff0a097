// Micro SD storage status and initialize (C4.1, C4.2).
import { hub } from "../api.js";
import { h, formatBytes } from "../dom.js";
import { humanize } from "../device-state.js";
import { device, subscribe } from "../store.js";
import { busy } from "../form.js";
import { can } from "../perms.js";
import { toast, toastError } from "../toast.js";

/** @param {import("../api.js").Device} d @returns {Partial<import("../api.js").SdCard>} the card in the camera's state */
function storageOf(d) {
  return (d.state && d.state.sd) || {};
}

export function storageCard(d) {
  const body = h("div", {});
  const initBtn = h("button", { class: "btn btn-sm", id: "sd-initialize", disabled: !can(d, "settings") }, "Initialize");
  initBtn.addEventListener("click", async () => {
    if (!confirm("Initialize the micro SD card? Everything on it is erased.")) return;
    try {
      await busy(initBtn, () => hub.initializeStorage(d.id));
      toast("Initializing the card…", { kind: "ok" });
    } catch (err) { toastError(err); }
  });
  const render = () => {
    const st = storageOf(device(d.id) || d);
    const status = st.status ?? "absent";
    const { capacity: cap, used, free } = st;
    const pct = cap ? Math.min(100, Math.round((100 * (used || 0)) / cap)) : 0;
    const cls = status === "normal" ? "ok" : status === "error" ? "danger" : "warn";
    body.replaceChildren(
      h("div", { class: "row", style: { marginBottom: "10px" } }, h("span", { class: `chip ${cls}`, id: "sd-status" }, humanize(status))),
      cap ? h("div", { class: "meter", title: `${pct}% used` }, h("div", { style: { width: `${pct}%` } })) : null,
      cap ? h("div", { class: "row small muted", style: { marginTop: "8px", justifyContent: "space-between" } },
        h("span", {}, `Used ${formatBytes(used)}`), h("span", {}, `Free ${formatBytes(free)}`), h("span", {}, `Capacity ${formatBytes(cap)}`)) : null);
  };
  render();
  const unsub = subscribe((id) => { if (id === null || id === d.id) render(); });
  const el = h("div", { class: "card" },
    h("div", { class: "card-title" }, h("h3", {}, "Storage (micro SD)"), initBtn), body);
  return { el, destroy: unsub };
}
