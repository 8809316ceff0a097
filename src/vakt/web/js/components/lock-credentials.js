// Users and their credentials with sync state (A7), provisioning door codes and cards, temporary codes.
import { api } from "../api.js";
import { h, icon } from "../dom.js";
import { busy, dialog, field, input } from "../form.js";
import { humanize } from "../device-state.js";
import { CREDENTIAL_TYPE as TYPE_LABEL, userTypeLabel } from "../lock-labels.js";
import { can } from "../perms.js";
import { on } from "../ws.js";
import { toast, toastError } from "../toast.js";

// The hub's credential kinds -> the lock's CredentialType (vakt.hub.models.locks.MATTER_TYPE).
const MATTER = { code: "PIN", card: "RFID", fingerprint: "Fingerprint" };
const TYPE_ICON = { PIN: "key", RFID: "panel", Fingerprint: "shield" };
const SYNC = { synced: ["Synced", "ok"], adding: ["Sending to lock…", "warn"], deleting: ["Removing…", "warn"], out_of_sync: ["Out of sync", "danger"] };

/** @param {{id:number, kind:string, number:number|null, user_name:string, user_type:string, administrator:boolean,
 *   sync_state:string, error:string|null, valid_from:string|null, valid_until:string|null, max_uses:number|null,
 *   uses:number|null, uses_left:number|null}} c  CredentialOut of GET /api/locks/{id}/credentials */
function credOf(c) {
  return {
    id: c.id,
    type: MATTER[c.kind],
    index: c.number,
    name: c.user_name,
    error: c.error,
    sync: c.sync_state,
    userType: c.user_type,
    admin: c.administrator,
    temporary: Boolean(c.valid_from || c.valid_until || c.max_uses),
    validUntil: c.valid_until,
    usesLeft: c.uses_left,
  };
}

// Issue 15 item 9: the uses left as the lock counts them, down to "used up".
function usesText(left) {
  if (left === null || left === undefined) return "";
  return left === 0 ? " · used up" : ` · ${left} ${left === 1 ? "use" : "uses"} left`;
}

function addDialog(d, kind, done) {
  const isCode = kind !== "RFID";
  const temporary = kind === "temporary";
  const error = h("div", { class: "form-error", role: "alert" });
  const secret = isCode
    ? input({ name: "secret", id: "new-code", inputmode: "numeric", pattern: "[0-9]{6,10}", required: true, autocomplete: "off", placeholder: "6-10 digits" })
    : input({ name: "secret", id: "new-card", pattern: "[0-9A-Fa-f]{4,32}", required: true, autocomplete: "off", placeholder: "Card UID, e.g. 04A1B2C3" });
  const submit = h("button", { class: "btn btn-primary", type: "submit" }, "Add");
  const form = h("form", {},
    field("Name", input({ name: "name", required: true, maxlength: 60, placeholder: temporary ? "Cleaner" : "Anna", id: "cred-name" })),
    field(isCode ? "Door code" : "Card UID", secret, isCode ? "Never stored in clear: the lock keeps only a keyed hash." : null),
    temporary ? [
      field("Valid from", input({ name: "valid_from", type: "datetime-local" })),
      field("Valid until", input({ name: "valid_until", type: "datetime-local" })),
      field("Number of uses (optional)", input({ name: "max_uses", type: "number", min: 1, max: 1000 })),
    ] : null,
    error, h("div", { class: "row end" }, submit));
  const title = temporary ? "Temporary door code" : isCode ? "Add a door code" : "Add a card";
  const dlg = dialog(title, form);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!form.checkValidity()) { error.textContent = isCode ? "A door code is 6 to 10 digits." : "A card UID is 4-32 hex digits."; return; }
    const fd = new FormData(form);
    const body = { credential_type: isCode ? "PIN" : "RFID", name: fd.get("name"), secret: fd.get("secret") };
    if (temporary) {
      if (fd.get("valid_from")) body.valid_from = new Date(fd.get("valid_from")).toISOString();
      if (fd.get("valid_until")) body.valid_until = new Date(fd.get("valid_until")).toISOString();
      if (fd.get("max_uses")) body.max_uses = Number(fd.get("max_uses"));
      if (!body.valid_until && !body.max_uses) { error.textContent = "A temporary code needs an end time or a number of uses."; return; }
    }
    try {
      const added = await busy(submit, () => api.post(`/api/locks/${d.id}/credentials`, body));
      // L2.3 (docs/lock.md): while the lock has no administrator, the first credential becomes one.
      const admin = added && added.administrator
        ? ` It is the lock's administrator: it opens the menu at the keypad (3571#).` : "";
      toast(`${TYPE_LABEL[body.credential_type]} for ${body.name} added to the lock.${admin}`, { kind: "ok" });
      dlg.close();
      done();
    } catch (err) { error.textContent = err.message; }
  });
}

function row(d, c, refresh) {
  const [syncText, syncCls] = SYNC[c.sync] || [humanize(c.sync), ""];
  const del = can(d, "settings") ? h("button", { class: "icon-btn", "aria-label": "Delete", title: "Delete", onclick: async () => {
    if (!confirm(`Delete ${TYPE_LABEL[c.type] || c.type} ${c.index ?? ""} (${c.name || "unnamed"})?`)) return;
    try { await api.del(`/api/locks/${d.id}/credentials/${c.id}`); refresh(); } catch (err) { toastError(err); }
  } }, icon("trash", 18)) : null;
  const rename = can(d, "settings") ? h("button", { class: "btn btn-sm btn-ghost", title: "Give it a name", onclick: async () => {
    const name = prompt("Whose credential is this?", c.name || "");
    if (!name || !name.trim()) return;
    try { await api.patch(`/api/locks/${d.id}/credentials/${c.id}`, { user_name: name.trim() }); refresh(); } catch (err) { toastError(err); }
  } }, "Rename") : null;
  return h("div", { class: "list-item cred", dataset: { type: c.type, index: c.index ?? "" } },
    h("div", { class: "device-icon" }, icon(TYPE_ICON[c.type] || "key", 18)),
    h("div", { class: "grow" },
      h("div", { class: "title" }, c.name || `${TYPE_LABEL[c.type] || c.type} ${c.index ?? ""}`),
      h("div", { class: "meta" }, `${TYPE_LABEL[c.type] || c.type}${c.index ? ` #${c.index}` : ""}`,
        c.admin ? ` · ${userTypeLabel("ProgrammingUser")}` : "",
        c.temporary ? ` · temporary${c.validUntil ? ` until ${new Date(c.validUntil).toLocaleString()}` : ""}` : "",
        h("span", { class: "uses-left" }, usesText(c.usesLeft)))),
    h("span", { class: `chip ${syncCls}`, title: c.error || "" }, syncText), rename, del);
}

export function lockCredentials(d) {
  const list = h("div", { class: "list", id: "credential-list" });
  const actions = can(d, "settings") ? h("div", { class: "row", style: { marginBottom: "8px" } },
    h("button", { class: "btn btn-sm", id: "add-code", onclick: () => addDialog(d, "PIN", refresh) }, icon("plus", 14), "Door code"),
    h("button", { class: "btn btn-sm", id: "add-card", onclick: () => addDialog(d, "RFID", refresh) }, icon("plus", 14), "Card"),
    h("button", { class: "btn btn-sm", id: "add-temporary", onclick: () => addDialog(d, "temporary", refresh) }, icon("plus", 14), "Temporary code")) : null;
  async function refresh() {
    try {
      const rows = (await api.get(`/api/locks/${d.id}/credentials`)).map(credOf);
      list.replaceChildren(...(rows.length ? rows.map((c) => row(d, c, refresh))
        : [h("div", { class: "empty" }, "No credentials yet. Fingerprints are enrolled at the lock (3571# then 11#).")]));
    } catch (err) { list.replaceChildren(h("div", { class: "empty" }, err.message)); }
  }
  const off = on("device.event", (m) => { if (m.device_id === d.id && (m.event || {}).type === "LockUserChange") refresh(); });
  // Also sent when a temporary code's uses left change (the hub compares the lock's counts).
  const off2 = on("lock.credentials", (m) => { if (m.device_id === d.id) refresh(); });
  return { el: h("div", {}, actions, list, h("p", { class: "muted small" }, "Fingerprints can only be enrolled at the lock.")), refresh, destroy: () => { off(); off2(); } };
}
