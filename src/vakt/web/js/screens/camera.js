// Camera: live view, snapshot, manual record, definition, audio, talk, active defense (C5, C9), storage (C4).
import { api, hub } from "../api.js";
import { h, icon } from "../dom.js";
import { livePlayer } from "../components/live-player.js";
import { pageHead } from "../components/page-head.js";
import { talkButton } from "../components/talk-button.js";
import { storageCard } from "../components/storage-card.js";
import { cameraStatus } from "../components/camera-status.js";
import { can } from "../perms.js";
import { subscribe, device } from "../store.js";
import { toast, toastError } from "../toast.js";

const DEFINITIONS = [["ultra_hd", "Ultra HD"], ["hi_def", "Hi-Def"], ["standard", "Standard"]];

function ctl(id, ic, label, onclick, extra = {}) {
  return h("button", { class: "ctl", id, onclick, ...extra }, icon(ic, 22), h("span", {}, label));
}

export default function cameraScreen(d, params) {
  const cleanups = [];
  const head = pageHead(d, {
    actions: [
      d.state && d.state.emulated && can(d, "settings") ? h("a", { class: "btn btn-ghost btn-sm", href: `/devices/${d.id}/panel` }, icon("panel", 16), "Device panel") : null,
    ],
  });
  cleanups.push(head.destroy);

  let definition = (d.state && d.state.definition) || "hi_def";
  let live = null;
  const stage = h("div", {});
  const startLive = () => {
    if (live) live.destroy();
    if (!can(d, "live_view")) {
      stage.replaceChildren(h("div", { class: "player" }, h("div", { class: "status-msg" }, "You don't have the live view permission for this camera.")));
      return;
    }
    live = livePlayer(d, { title: false, definition });
    live.video.muted = !audioOn;
    stage.replaceChildren(live.el);
  };

  let audioOn = false;
  const audioBtn = ctl("audio", "mute", "Audio off", () => {
    audioOn = !audioOn;
    if (live) live.video.muted = !audioOn;
    audioBtn.replaceChildren(icon(audioOn ? "sound" : "mute", 22), h("span", {}, audioOn ? "Audio on" : "Audio off"));
    audioBtn.setAttribute("aria-pressed", String(audioOn));
  });

  const snapBtn = ctl("snapshot", "snapshot", "Snapshot", async () => {
    try {
      const res = await hub.snapshot(d.id);
      const blob = await res.blob();
      const url = URL.createObjectURL(blob);
      const name = `${(d.name || d.serial).replace(/\W+/g, "_")}_${new Date().toISOString().replace(/[:.]/g, "-")}.jpg`;
      h("a", { href: url, download: name }).click();
      toast("Snapshot saved.", { kind: "ok", image: url });
    } catch (err) { toastError(err); }
  }, { disabled: !can(d, "live_view") });

  let recording = false;
  const recBtn = ctl("record", "record", "Record", async () => {
    try {
      const next = !recording;
      const cam = await api.post(`/api/cameras/${d.id}/record`, { on: next });
      setRecording(Boolean(cam.manual_recording));
      toast(next ? "Recording started." : "Recording stopped.", { kind: "ok" });
    } catch (err) { toastError(err); }
  }, { class: "ctl danger", disabled: !can(d, "live_view") });
  const setRecording = (on) => {
    recording = on;
    recBtn.setAttribute("aria-pressed", String(on));
    recBtn.querySelector("span").textContent = on ? "Stop rec" : "Record";
    if (live) live.setRecording(on);
  };

  const defense = ctl("active-defense", "siren", "Active defense", async () => {
    try {
      const on = defense.getAttribute("aria-pressed") !== "true";
      if (on) await api.post(`/api/cameras/${d.id}/active-defense`, { seconds: 60 });
      else await api.del(`/api/cameras/${d.id}/active-defense`);
      defense.setAttribute("aria-pressed", String(on));
      toast(on ? "Siren and spotlight on for up to a minute." : "Active defense stopped.", { kind: on ? "alert" : "ok" });
    } catch (err) { toastError(err); }
  }, { class: "ctl danger", disabled: !can(d, "live_view") });

  defense.setAttribute("aria-pressed", String(Boolean(((d.state || {}).active_defense || {}).on)));
  const talk = talkButton(d, { disabled: !can(d, "talk") });
  cleanups.push(talk.destroy);

  const defSel = h("div", { class: "segmented", role: "group", "aria-label": "Definition", id: "definition" },
    DEFINITIONS.map(([value, label]) => h("button", {
      "aria-pressed": String(value === definition), dataset: { value },
      onclick: async (ev) => {
        definition = value;
        for (const b of defSel.children) b.setAttribute("aria-pressed", String(b.dataset.value === value));
        api.put(`/api/cameras/${d.id}/definition`, { definition: value }).catch(() => {});
        startLive();
        ev.currentTarget.blur();
      },
    }, label)));

  const links = h("div", { class: "controls" },
    can(d, "history") ? h("a", { class: "ctl", href: `/devices/${d.id}/history`, id: "history-link" }, icon("history", 22), h("span", {}, "History")) : null,
    h("a", { class: "ctl", href: "/live" }, icon("grid", 22), h("span", {}, "Multi-view")),
    can(d, "settings") ? h("a", { class: "ctl", href: `/devices/${d.id}/settings`, id: "settings-link" }, icon("gear", 22), h("span", {}, "Settings")) : null,
    d.is_owner !== false ? h("a", { class: "ctl", href: `/devices/${d.id}/share` }, icon("share", 22), h("span", {}, "Share")) : null);

  const storage = storageCard(d);
  cleanups.push(storage.destroy);
  const status = cameraStatus(d);
  cleanups.push(status.destroy);

  const el = h("section", {}, head.el,
    h("div", { class: "cols" },
      h("div", {}, stage,
        h("div", { class: "controls" }, talk.el, audioBtn, snapBtn, recBtn, defense, h("span", { style: { flex: 1 } }), defSel),
        links),
      h("div", { class: "stack" }, status.el, storage.el)));

  // The hub's view of the camera: chosen definition and manual recording (C5.1).
  hub.camera(d.id).then((cam) => {
    if (cam.definition && cam.definition !== definition) {
      definition = cam.definition;
      for (const b of defSel.children) b.setAttribute("aria-pressed", String(b.dataset.value === definition));
      startLive();
    }
    setRecording(Boolean(cam.manual_recording));
    // C5.3/C6: the Audio button only where there is sound to hear
    const sound = cam.audio && (!cam.codec || /mp4a|opus/.test(cam.codec));
    if (!sound) {
      audioBtn.disabled = true;
      audioBtn.title = cam.audio ? "This camera sends no sound" : "Audio is off in the camera's settings (C6)";
    }
  }).catch(() => {});
  startLive();
  setRecording(recording);
  cleanups.push(subscribe((id) => {
    if (id !== d.id) return;
    const cur = device(d.id);
    const ad = cur && cur.state && cur.state.active_defense;
    if (ad && typeof ad.on === "boolean") defense.setAttribute("aria-pressed", String(ad.on));
  }));
  if (params.query.get("talk")) setTimeout(() => talk.el.focus(), 300);
  return { el, title: d.name || "Camera", destroy: () => { if (live) live.destroy(); cleanups.forEach((f) => f()); } };
}
