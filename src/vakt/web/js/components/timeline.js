// A zoomable timeline of one day: recorded spans, gaps where the stream was lost, and person events.
// Click to play from that instant; the wheel or the zoom buttons change the visible window.
import { h, LOCALES } from "../dom.js";

const ZOOMS = [[24 * 3600, "24 h"], [6 * 3600, "6 h"], [3600, "1 h"], [900, "15 min"]];

export function timeline({ onSeek }) {
  let data = null;
  let span = ZOOMS[0][0] * 1000;
  let center = 0;
  let cursor = null;
  const track = h("div", { class: "track" });
  const bar = h("div", { class: "timeline", id: "timeline", role: "slider", "aria-label": "Timeline", tabindex: 0 }, track);
  const zoom = h("div", { class: "segmented", role: "group", "aria-label": "Zoom" }, ZOOMS.map(([s, label]) =>
    h("button", { "aria-pressed": String(s * 1000 === span), dataset: { span: s }, onclick: () => setSpan(s * 1000) }, label)));
  const setSpan = (ms) => {
    span = ms;
    for (const b of zoom.children) b.setAttribute("aria-pressed", String(Number(b.dataset.span) * 1000 === span));
    render();
  };
  const bounds = () => {
    const start = Date.parse(data.start);
    const end = Date.parse(data.end);
    const s = Math.max(start, Math.min(center - span / 2, end - span));
    return [s, Math.min(end, s + span)];
  };
  const pos = (t, [a, b]) => `${((t - a) / (b - a)) * 100}%`;
  const width = (t0, t1, [a, b]) => `${Math.max(0.6, ((Math.min(t1, b) - Math.max(t0, a)) / (b - a)) * 100)}%`;
  function render() {
    if (!data) { track.replaceChildren(); return; }
    const win = bounds();
    const [a, b] = win;
    const items = [];
    for (const r of data.recordings) {
      const s = Date.parse(r.start); const e = Date.parse(r.end);
      if (e < a || s > b) continue;
      items.push(h("div", { class: "seg", style: { left: pos(Math.max(s, a), win), width: width(s, e, win) } }));
    }
    for (const g of data.gaps) {
      const s = Date.parse(g.start); const e = g.end ? Date.parse(g.end) : Date.now();
      if (e < a || s > b) continue;
      items.push(h("div", { class: "gap", title: g.reason, style: { left: pos(Math.max(s, a), win), width: width(s, e, win) } }));
    }
    for (const ev of data.events) {
      const s = Date.parse(ev.start);
      if (s < a || s > b) continue;
      items.push(h("div", { class: "evt", title: ev.label || ev.kind, dataset: { kind: ev.kind }, style: { left: pos(s, win) } }));
    }
    const step = span / 6;
    for (let t = Math.ceil(a / step) * step; t <= b; t += step) {
      items.push(h("div", { class: "tick", style: { left: pos(t, win) } },
        new Date(t).toLocaleTimeString(LOCALES, { hour: "2-digit", minute: "2-digit", timeZone: data.time_zone })));
    }
    if (cursor !== null && cursor >= a && cursor <= b) items.push(h("div", { class: "cursor", style: { left: pos(cursor, win) } }));
    track.replaceChildren(...items);
  }
  bar.addEventListener("click", (ev) => {
    if (!data) return;
    const [a, b] = bounds();
    const rect = bar.getBoundingClientRect();
    const t = a + ((ev.clientX - rect.left) / rect.width) * (b - a);
    center = t;
    onSeek(new Date(t));
  });
  bar.addEventListener("wheel", (ev) => {
    if (!data) return;
    ev.preventDefault();
    const idx = ZOOMS.findIndex(([s]) => s * 1000 === span);
    const next = Math.max(0, Math.min(ZOOMS.length - 1, idx + (ev.deltaY < 0 ? 1 : -1)));
    const [a, b] = bounds();
    const rect = bar.getBoundingClientRect();
    center = a + ((ev.clientX - rect.left) / rect.width) * (b - a);
    setSpan(ZOOMS[next][0] * 1000);
  }, { passive: false });
  const el = h("div", {}, h("div", { class: "row", style: { justifyContent: "space-between", marginBottom: "10px" } },
    h("h3", {}, "Timeline"), zoom), bar,
    h("div", { class: "legend" }, h("span", {}, h("i", { style: { background: "var(--accent)" } }), "Recorded"),
      h("span", {}, h("i", { style: { background: "var(--warn)" } }), "Person"),
      h("span", {}, h("i", { style: { background: "var(--danger)" } }), "Stream lost")));
  return {
    el,
    set(next) {
      data = next;
      const recs = next.recordings;
      const last = recs.length ? Date.parse(recs[recs.length - 1].end) : Date.parse(next.start);
      const first = recs.length ? Date.parse(recs[0].start) : last;
      // Open on the narrowest zoom that still shows all of the day's footage.
      const fit = [...ZOOMS].reverse().find(([z]) => z * 1000 >= (last - first) * 1.2) || ZOOMS[0];
      center = (first + last) / 2;
      setSpan(fit[0] * 1000);
    },
    setCursor(t) { cursor = t; render(); },
    lastRecorded() {
      if (!data || !data.recordings.length) return null;
      return Date.parse(data.recordings[data.recordings.length - 1].end);
    },
  };
}
