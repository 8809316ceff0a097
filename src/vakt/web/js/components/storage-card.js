// Micro SD storage status and initialize (C4.1, C4.2).
import { api } from "../api.js";
import { h, formatBytes } from "../dom.js";
import { humanize } from "../device-state.js";
import { device, subscribe } from "../store.js";
import { busy } from "../form.js";
import { can } from "../perms.js";
import { toast, toastError } from "../toast.js";

function storageOf(d) {
  const s = d.state || {};
  return s.storage || s.sd || s.sd_card || {};
}

export function storageCard(d) {
  const body = h("div", {});
  const initBtn = h("button", { class: "btn btn-sm", id: "sd-initialize", disabled: !can(d, "settings") }, "Initialize");
  initBtn.addEventListener("click", async () => {
    if (!confirm("Initialize the micro SD card? Everything on it is erased.")) return;
    try {
      await busy(initBtn, () => api.post(`/api/cameras/${d.id}/storage/initialize`));
      toast("Initializing the card…", { kind: "ok" });
    } catch (err) { toastError(err); }
  });
  const render = () => {
    const st = storageOf(device(d.id) || d);
    const status = st.status || st.state || "absent";
    const cap = st.capacity_bytes ?? st.capacity;
    const used = st.used_bytes ?? st.used;
    const free = st.free_bytes ?? st.free ?? (cap !== undefined && used !== undefined ? cap - used : undefined);
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
