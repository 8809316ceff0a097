// Lock (A7): state, battery, remote unlock with PIN, normally-open mode, volume, log, credentials, alarms.
import { api } from "../api.js";
import { h, icon } from "../dom.js";
import { busy, dialog, field, input } from "../form.js";
import { pageHead } from "../components/page-head.js";
import { lockLog } from "../components/lock-log.js";
import { deviceAbout } from "../components/device-about.js";
import { lockCredentials } from "../components/lock-credentials.js";
import { alarms, battery, humanize, lockState, operatingMode } from "../device-state.js";
import { alarmLabel, modeLabel } from "../lock-labels.js";
import { can } from "../perms.js";
import { device, subscribe } from "../store.js";
import { toast, toastError } from "../toast.js";

function unlockDialog(d) {
  const pin = input({ name: "pin", type: "password", inputmode: "numeric", autocomplete: "off", required: true, pattern: "[0-9]{4,8}", id: "unlock-pin" });
  const error = h("div", { class: "form-error", role: "alert" });
  const submit = h("button", { class: "btn btn-primary btn-block", type: "submit", id: "unlock-submit" }, icon("unlock", 18), "Unlock");
  const form = h("form", {}, field("Your unlock PIN", pin, "Set it under Account > Remote unlock PIN if you have none."), error, submit);
  const dlg = dialog("Unlock the door", form);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    try {
      await busy(submit, () => api.post(`/api/locks/${d.id}/unlock`, { pin: pin.value }));
      toast("Unlocked. It relocks by itself in a few seconds.", { kind: "ok" });
      dlg.close();
    } catch (err) { error.textContent = err.message; pin.select(); }
  });
  pin.focus();
}

// Issue 10: a lock that cannot read its memory stays locked; the owner starts it over with a new
// administrator code (POST /api/locks/{id}/restore). Every credential it held has to be added again.
function restoreDialog(d) {
  const code = input({ name: "admin_code", id: "restore-code", inputmode: "numeric", pattern: "[0-9]{6,10}", required: true, autocomplete: "off", placeholder: "6-10 digits" });
  const name = input({ name: "user_name", id: "restore-name", required: true, maxlength: 64, placeholder: "Your name" });
  const error = h("div", { class: "form-error", role: "alert" });
  const submit = h("button", { class: "btn btn-primary", type: "submit", id: "restore-submit" }, "Restore the lock");
  const form = h("form", {},
    h("p", { class: "muted" }, "The lock forgets every code, card and fingerprint it had and starts again with this administrator door code. Add the others again afterwards."),
    field("Whose code", name), field("New administrator door code", code, "Opens the lock's menu at the keypad (3571#)."), error,
    h("div", { class: "row end" }, submit));
  const dlg = dialog("Restore the lock's memory", form);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!form.checkValidity()) { error.textContent = "A door code is 6 to 10 digits."; return; }
    try {
      await busy(submit, () => api.post(`/api/locks/${d.id}/restore`, { admin_code: code.value, user_name: name.value }));
      toast("The lock is restored. Its administrator code opens the menu at the keypad.", { kind: "ok" });
      dlg.close();
    } catch (err) { error.textContent = err.message; }
  });
}

export default function lockScreen(d) {
  const head = pageHead(d, {
    actions: [d.state && d.state.emulated ? h("a", { class: "btn btn-ghost btn-sm", href: `/devices/${d.id}/panel`, id: "panel-link" }, icon("panel", 16), "Lock panel") : null],
  });
  const orb = h("div", { class: "lock-orb" }, icon("lock", 44));
  const stateText = h("div", { class: "state", id: "lock-state" });
  const subText = h("div", { class: "muted" });
  const unlockBtn = h("button", { class: "btn btn-primary", id: "unlock", disabled: !can(d, "unlock"), onclick: () => unlockDialog(d) }, icon("unlock", 18), "Unlock");
  const lockBtn = h("button", { class: "btn", id: "lock", disabled: !can(d, "unlock"), onclick: async () => {
    try { await busy(lockBtn, () => api.post(`/api/locks/${d.id}/lock`)); toast("Locked.", { kind: "ok" }); } catch (err) { toastError(err); }
  } }, icon("lock", 18), "Lock");

  const passage = h("input", { type: "checkbox", id: "normally-open", disabled: !can(d, "settings") });
  passage.addEventListener("change", async () => {
    const mode = passage.checked ? "Passage" : "Normal";
    try {
      await api.put(`/api/locks/${d.id}/operating-mode`, { mode });
      toast(passage.checked ? "Normally-open on: the door stays unlocked." : "Normally-open off.", { kind: "ok" });
    } catch (err) { passage.checked = !passage.checked; toastError(err); }
  });
  const volume = h("div", { class: "segmented", id: "volume", role: "group", "aria-label": "Volume" },
    [["high", "High"], ["low", "Low"], ["mute", "Mute"]].map(([v, l]) => h("button", { dataset: { value: v }, disabled: !can(d, "settings"), onclick: async () => {
      try { await api.put(`/api/locks/${d.id}/volume`, { volume: v }); setVolume(v); } catch (err) { toastError(err); }
    } }, l)));
  const setVolume = (v) => { for (const b of volume.children) b.setAttribute("aria-pressed", String(b.dataset.value === v)); };
  const alarmBox = h("div", { class: "stack", id: "lock-alarms" });
  const restoreBtn = h("button", { class: "btn btn-sm", id: "restore-memory", disabled: !can(d, "settings"), onclick: () => restoreDialog(d) }, "Restore…");
  const damaged = h("div", { class: "chip danger", id: "memory-damaged", role: "alert", style: { display: "none", height: "auto", padding: "10px 12px", gap: "10px", whiteSpace: "normal" } },
    icon("alert", 18), h("span", { class: "grow" }, "The lock cannot read its memory. It stays locked and opens only with the key until you restore it here, or reset it at the inside panel."), restoreBtn);

  const render = () => {
    const cur = device(d.id) || d;
    const ls = lockState(cur) || "unknown";
    const al = alarms(cur);
    orb.className = `lock-orb ${ls} ${al.length ? "alarm" : ""}`;
    orb.replaceChildren(icon(ls === "unlocked" ? "unlock" : "lock", 44));
    stateText.textContent = humanize(ls);
    const b = battery(cur);
    const mode = operatingMode(cur) || "Normal";
    subText.textContent = [b ? `Battery ${b.pct}%${b.low ? " (low)" : ""}` : null,
      `Mode ${modeLabel(mode)}`, cur.online ? "Online" : "Offline"].filter(Boolean).join(" · ");
    damaged.style.display = (cur.state || {}).memory_damaged ? "" : "none"; // .chip's display would override [hidden]
    passage.checked = mode === "Passage";
    const vol = (cur.state || {}).volume; // Volume: high / low / mute
    if (vol) setVolume(vol);
    alarmBox.replaceChildren(...al.map((a) => h("div", { class: "chip danger", style: { height: "32px" } }, icon("alert", 16), alarmLabel(a))));
  };
  render();
  const unsub = subscribe((id) => { if (id === null || id === d.id) render(); });

  const log = lockLog(d);
  const about = deviceAbout(d);
  const creds = lockCredentials(d);
  const tabs = [["log", "Activity", log], ["credentials", "Users & credentials", creds]];
  const tabBar = h("div", { class: "tabs", role: "tablist" });
  const tabBody = h("div", {});
  const select = (key) => {
    for (const b of tabBar.children) b.setAttribute("aria-selected", String(b.dataset.tab === key));
    const t = tabs.find(([k]) => k === key);
    tabBody.replaceChildren(t[2].el);
    t[2].refresh();
  };
  tabBar.append(...tabs.map(([k, l]) => h("button", { role: "tab", dataset: { tab: k }, onclick: () => select(k) }, l)));
  select("log");

  const el = h("section", {}, head.el,
    h("div", { class: "cols" },
      h("div", { class: "stack" },
        h("div", { class: "card" },
          h("div", { class: "lock-hero" }, orb, h("div", { class: "grow" }, stateText, subText)),
          h("div", { class: "row", style: { marginTop: "16px" } }, unlockBtn, lockBtn), damaged, alarmBox),
        h("div", { class: "card" }, tabBar, tabBody)),
      h("div", { class: "stack" }, h("div", { class: "card" }, h("div", { class: "card-title" }, h("h3", {}, "Lock settings")),
        h("div", { class: "setting-row" }, h("div", { class: "grow" }, h("div", { class: "label" }, "Normally-open mode"),
          h("div", { class: "desc" }, "The door stays unlocked until someone verifies at the lock.")), h("span", { class: "switch" }, passage, h("span"))),
        h("div", { class: "setting-row" }, h("div", { class: "grow" }, h("div", { class: "label" }, "Volume"),
          h("div", { class: "desc" }, "Mute silences key tones only; alarms stay audible.")), volume)),
        about.el)));
  return { el, title: d.name || "Lock", destroy: () => { unsub(); head.destroy(); log.destroy(); creds.destroy(); } };
}
