// Plays a camera's live H.264 in a <video> through Media Source Extensions, fed by the live WebSocket:
// first a JSON message with the codec, then the fMP4 init segment, then fragments (no transcoding).

const MAX_LAG_S = 0.8; // further behind the live edge than this: jump to it
const KEEP_S = 20; // seconds of buffer kept behind the playhead

export class MsePlayer extends EventTarget {
  constructor(video, url) {
    super();
    this.video = video;
    this.url = url;
    this.queue = [];
    this.closed = false;
    this.retry = 800;
    this.frames = 0;
  }

  start() {
    if (!("MediaSource" in window)) {
      this.fail("This browser cannot play live video (no Media Source Extensions).");
      return this;
    }
    this.connect();
    this.timer = setInterval(() => this.keepLive(), 500);
    return this;
  }

  connect() {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${proto}://${location.host}${this.url}`);
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = () => { this.openedAt = performance.now(); };
    ws.onmessage = (ev) => {
      if (typeof ev.data === "string") this.onControl(ev.data);
      else this.enqueue(ev.data);
    };
    ws.onclose = (ev) => {
      if (this.closed) return;
      if (ev.code === 1008 || ev.code === 4403 || ev.code === 4404) {
        this.fail(ev.reason || "You don't have access to this camera's live view.");
        return;
      }
      this.status(ev.reason ? `${ev.reason} — reconnecting…` : "Connection lost — reconnecting…");
      this.resetMedia();
      setTimeout(() => !this.closed && this.connect(), this.retry);
      this.retry = Math.min(this.retry * 2, 8000);
    };
  }

  onControl(text) {
    let msg;
    try { msg = JSON.parse(text); } catch { return; }
    if (msg.error) { this.status(msg.error); return; }
    const codec = msg.codec || msg.codecs;
    const mime = msg.mime || msg.mimeType || (codec ? `video/mp4; codecs="${codec}"` : null);
    if (!mime) { this.dispatchEvent(new CustomEvent("info", { detail: msg })); return; }
    if (!MediaSource.isTypeSupported(mime)) { this.fail(`This browser cannot play ${mime}.`); return; }
    this.resetMedia();
    this.mime = mime;
    const ms = new MediaSource();
    this.ms = ms;
    this.video.src = URL.createObjectURL(ms);
    ms.addEventListener("sourceopen", () => {
      if (ms !== this.ms) return;
      this.sb = ms.addSourceBuffer(mime);
      this.sb.mode = "segments";
      this.sb.addEventListener("updateend", () => { this.toLiveEdge(); this.pump(); });
      this.pump();
    }, { once: true });
  }

  enqueue(buf) {
    this.queue.push(buf);
    if (this.queue.length > 200) this.queue.splice(1, this.queue.length - 100); // never hold unbounded memory
    this.pump();
  }

  pump() {
    const sb = this.sb;
    if (!sb || sb.updating || !this.queue.length || this.ms.readyState !== "open") return;
    const buffered = sb.buffered;
    if (buffered.length && this.video.currentTime - buffered.start(0) > KEEP_S * 2) {
      sb.remove(buffered.start(0), this.video.currentTime - KEEP_S);
      return;
    }
    try {
      sb.appendBuffer(this.queue.shift());
      this.frames += 1;
      if (this.frames === 2) this.firstData();
    } catch (err) {
      if (err.name === "QuotaExceededError") { this.queue.length = 0; return; }
      this.status(`Playback error: ${err.message}`);
    }
  }

  firstData() {
    this.retry = 800;
    const v = this.video;
    // Startup time, socket open -> first frame on screen, kept on the element for tests and diagnostics.
    if ("requestVideoFrameCallback" in v && this.openedAt !== undefined) {
      const opened = this.openedAt;
      v.requestVideoFrameCallback(() => {
        const ms = Math.round(performance.now() - opened);
        v.dataset.firstFrameMs = String(ms);
        console.info(`live view: first frame ${ms} ms after the socket opened`);
      });
    }
    const go = () => v.play().then(() => this.dispatchEvent(new Event("playing"))).catch(() => {
      v.muted = true;
      v.play().then(() => this.dispatchEvent(new Event("playing"))).catch(() => {});
    });
    if (v.readyState >= 2) go(); else v.addEventListener("loadeddata", go, { once: true });
    this.status("");
  }

  // The hub sends the current GOP first: once it is in, play from its end, not from its keyframe
  // (waiting for the keep-live timer would show the GOP's first frame for up to half a second).
  toLiveEdge() {
    const v = this.video;
    if (this.queue.length || !this.sb || !v.buffered.length) return;
    const end = v.buffered.end(v.buffered.length - 1);
    if (end - v.currentTime > MAX_LAG_S) v.currentTime = Math.max(v.buffered.start(v.buffered.length - 1), end - 0.1);
  }

  // Stay within a second of the live edge (C5, latency): jump forward when the playhead lags.
  keepLive() {
    const v = this.video;
    if (!this.sb || !v.buffered.length) return;
    const end = v.buffered.end(v.buffered.length - 1);
    const start = v.buffered.start(v.buffered.length - 1);
    if (v.currentTime < start || end - v.currentTime > MAX_LAG_S) v.currentTime = Math.max(start, end - 0.1);
    if (v.paused && v.readyState >= 2) v.play().catch(() => {});
  }

  latency() {
    const v = this.video;
    return v.buffered.length ? v.buffered.end(v.buffered.length - 1) - v.currentTime : null;
  }

  status(text) { this.dispatchEvent(new CustomEvent("status", { detail: text })); }
  fail(text) { this.status(text); this.dispatchEvent(new CustomEvent("failed", { detail: text })); }

  resetMedia() {
    this.queue.length = 0;
    this.frames = 0;
    this.sb = null;
    if (this.ms) {
      try { if (this.ms.readyState === "open") this.ms.endOfStream(); } catch { /* already ended */ }
      URL.revokeObjectURL(this.video.src);
      this.ms = null;
    }
  }

  stop() {
    this.closed = true;
    clearInterval(this.timer);
    if (this.ws) this.ws.close();
    this.resetMedia();
    this.video.removeAttribute("src");
    this.video.load();
  }
}
