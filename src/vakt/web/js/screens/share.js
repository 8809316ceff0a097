// Sharing (A5, C5.2): share a device with another account, with permissions and an optional end.
import { api } from "../api.js";
import { h, icon, timeAgo, LOCALES } from "../dom.js";
import { busy, field, input } from "../form.js";
import { loadDevice } from "../store.js";
import { pageHead } from "../components/page-head.js";
import { toast, toastError } from "../toast.js";

const PERMS = [["live_view", "Live view"], ["history", "History"], ["talk", "Talk"], ["unlock", "Unlock"], ["settings", "Settings"]];
// What each kind of device can be shared for (A5): a camera is never unlocked, a lock never talks.
export const PERMS_BY_KIND = {
  camera: ["live_view", "history", "talk", "settings"],
  lock: ["unlock", "history", "settings"],
  gateway: ["settings"],
};
const DEFAULT_PERM = { camera: "live_view", lock: "unlock", gateway: "settings" };

export default async function shareScreen(params) {
  const d = await loadDevice(params.id);
  const head = pageHead(d, { back: `/devices/${d.id}`, sub: "Sharing" });
  const list = h("div", { class: "list" }, h("div", { class: "skeleton" }));
  const load = async () => {
    try {
      const rows = await api.get(`/api/devices/${d.id}/shares`);
      list.replaceChildren(...(rows.length ? rows.map((s) => h("div", { class: "list-item" },
        h("div", { class: "device-icon" }, icon("user", 20)),
        h("div", { class: "grow" }, h("div", { class: "title" }, s.username),
          h("div", { class: "meta" }, s.permissions.map((p) => PERMS.find(([k]) => k === p)?.[1] || p).join(", "),
            ` · since ${timeAgo(s.created_at)}`, s.expires_at ? ` · until ${new Date(s.expires_at).toLocaleString(LOCALES)}` : "")),
        s.active ? null : h("span", { class: "chip" }, "Expired"),
        h("button", { class: "btn btn-sm btn-danger", onclick: async () => {
          try { await api.del(`/api/devices/${d.id}/shares/${s.id}`); toast(`Stopped sharing with ${s.username}.`, { kind: "ok" }); load(); } catch (err) { toastError(err); }
        } }, "Revoke")))
        : [h("div", { class: "meta", style: { padding: "12px 0" } }, "Not shared with anyone.")]));
    } catch (err) { list.replaceChildren(h("div", { class: "meta" }, err.message)); }
  };
  load();
  const offered = PERMS.filter(([k]) => (PERMS_BY_KIND[d.kind] || []).includes(k));
  const checks = offered.map(([k, l]) => h("label", { class: "chip", style: { cursor: "pointer", height: "32px" } },
    h("input", { type: "checkbox", name: "perm", value: k, id: `share-perm-${k}`, checked: k === DEFAULT_PERM[d.kind] }), l));
  const form = h("form", {},
    field("Username or e-mail", input({ name: "user", required: true, autocomplete: "off", id: "share-user" })),
    h("div", { class: "field" }, h("span", {}, "Permissions"), h("div", { class: "row" }, checks)),
    field("Ends (optional)", input({ name: "expires", type: "datetime-local" })),
    h("button", { class: "btn btn-primary", type: "submit" }, "Share"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const fd = new FormData(form);
    const body = { user: fd.get("user"), permissions: fd.getAll("perm") };
    if (fd.get("expires")) body.expires_at = new Date(fd.get("expires")).toISOString();
    try {
      await busy(form.querySelector("[type=submit]"), () => api.post(`/api/devices/${d.id}/shares`, body));
      toast(`Shared with ${body.user}.`, { kind: "ok" });
      form.elements.namedItem("user").value = ""; // the ticked permissions stay for the next person
      load();
    } catch (err) { toastError(err); }
  });
  const el = h("section", {}, head.el, h("div", { class: "cols" },
    h("div", { class: "card" }, h("div", { class: "card-title" }, h("h3", {}, "Shared with")), list),
    h("div", { class: "card" }, h("div", { class: "card-title" }, h("h3", {}, "Share with someone")),
      h("p", { class: "muted small", style: { marginTop: 0 } }, "They see history only from the moment you share."), form)));
  return { el, title: "Share", destroy: head.destroy };
}
