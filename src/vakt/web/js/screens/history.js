// Video history (C7.2): calendar of days with footage, the day's timeline, playback from any point, clips.
import { api } from "../api.js";
import { h, icon, LOCALES } from "../dom.js";
import { calendar } from "../components/calendar.js";
import { timeline } from "../components/timeline.js";
import { pageHead } from "../components/page-head.js";
import { PlaybackPlayer } from "../playback-player.js";
import { loadDevice } from "../store.js";
import { can } from "../perms.js";
import { toastError } from "../toast.js";

const CLIP_S = 30;

export default async function historyScreen(params) {
  const d = await loadDevice(params.id);
  const head = pageHead(d, { back: `/devices/${d.id}`, sub: "Video history" });
  if (!can(d, "history")) { // a guest without History is told why, and nothing is asked that ends in 403 (A5)
    return { el: h("section", {}, head.el, h("div", { class: "card empty", id: "no-permission" }, icon("lock", 32),
      h("p", {}, "The owner has not shared this camera's recordings with you."))), title: d.name || "History", destroy: () => head.destroy() };
  }
  const video = h("video", { playsinline: true, controls: true, muted: true });
  const status = h("div", { class: "status-msg hidden" });
  const clock = h("span", { class: "grow mono", id: "playback-clock" });
  const stage = h("div", { class: "player", id: "playback" }, video,
    h("div", { class: "overlay-top" }, h("span", { class: "live-badge" }, "REC"), clock), status);
  const player = new PlaybackPlayer(video);
  const showStatus = (text) => { status.textContent = text; status.classList.toggle("hidden", !text); };
  player.addEventListener("playing", () => stage.classList.add("playing"));
  player.addEventListener("status", (ev) => showStatus(ev.detail));
  const download = h("a", { class: "btn btn-sm", id: "clip-download", download: "" }, icon("download", 16), `Download ${CLIP_S} s clip`);
  const dayTitle = h("div", { class: "sub" });

  let zone = "UTC";
  let alive = true;
  let retry = null;
  const tl = timeline({ onSeek: (t) => play(t) });
  async function play(at) {
    showStatus("");
    stage.classList.remove("playing");
    try { await player.play(d.id, at); } catch (err) { showStatus(err.message); }
  }
  async function loadDay(day) {
    dayTitle.textContent = new Date(`${day}T12:00:00`).toLocaleDateString(LOCALES, { weekday: "long", day: "numeric", month: "long" });
    try {
      const data = await api.get(`/api/cameras/${d.id}/history/timeline?day=${day}`);
      zone = data.time_zone;
      tl.set(data);
      const last = tl.lastRecorded();
      if (last) play(new Date(Math.max(Date.parse(data.start), last - 20_000)));
      else {
        showStatus("No recordings on this day yet.");
        // Recording may be just starting: look again shortly while this screen is open.
        if (alive && day === cal.selected()) retry = setTimeout(() => { cal.refresh(); loadDay(day); }, 5000);
      }
    } catch (err) { toastError(err); }
  }
  const cal = calendar({
    loadDays: async (y, m) => (await api.get(`/api/cameras/${d.id}/history/calendar?year=${y}&month=${m}`)).days,
    onPick: loadDay,
  });
  const timer = setInterval(() => {
    const t = player.wallClock();
    if (!t) return;
    clock.textContent = t.toLocaleString(LOCALES, { timeZone: zone });
    tl.setCursor(t.getTime());
    const start = new Date(t.getTime() - 5000);
    const end = new Date(start.getTime() + CLIP_S * 1000);
    download.href = `/api/cameras/${d.id}/history/clip?start=${encodeURIComponent(start.toISOString())}&end=${encodeURIComponent(end.toISOString())}`;
  }, 500);
  loadDay(cal.selected());

  const el = h("section", {}, head.el,
    h("div", { class: "cols" },
      h("div", { class: "stack" }, stage,
        h("div", { class: "card" }, tl.el, h("div", { class: "row", style: { marginTop: "12px", justifyContent: "space-between" } }, dayTitle, download))),
      cal.el));
  return { el, title: "History", destroy: () => { alive = false; clearTimeout(retry); clearInterval(timer); player.stop(); head.destroy(); } };
}
