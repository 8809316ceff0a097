// Recorded video (C7.2): the hub's HLS playlist (fMP4 segments, EXT-X-MAP init sections, byte ranges,
// EXT-X-START at the chosen instant, PROGRAM-DATE-TIME per segment) played by hls.js through MSE, since
// Chromium has no native HLS. hls.js is vendored as a plain ES module (js/vendor/, Apache-2.0).
import Hls from "./vendor/hls.light.min.js";

/** @param {{type: string, details: string, response?: {code?: number}}} data an hls.js error */
function describe(data) {
  if (data.type === Hls.ErrorTypes.NETWORK_ERROR) {
    return `The recording could not be loaded (${data.response && data.response.code ? data.response.code : data.details}).`;
  }
  if (data.type === Hls.ErrorTypes.MEDIA_ERROR) return "This browser cannot play this recording.";
  return `Playback stopped (${data.details}).`;
}

export class PlaybackPlayer extends EventTarget {
  /** @param {HTMLVideoElement} video */
  constructor(video) {
    super();
    this.video = video;
    /** @type {Hls|null} */
    this.hls = null;
    this.session = 0;
  }

  /**
   * Play the camera's recordings from the instant `at`; throws with the hub's words when there is none.
   * @param {number} deviceId
   * @param {Date} at
   */
  async play(deviceId, at) {
    const session = ++this.session;
    this.destroyHls();
    const url = `/api/cameras/${deviceId}/history/playlist.m3u8?at=${encodeURIComponent(at.toISOString())}`;
    // Asked once here too, so that "no footage there" comes in the hub's words rather than as a 404.
    const res = await fetch(url, { credentials: "same-origin" });
    if (!res.ok) {
      let detail = `No footage there (${res.status}).`;
      try { detail = (await res.json()).detail || detail; } catch { /* not JSON */ }
      throw new Error(detail);
    }
    if (session !== this.session) return;
    if (!Hls.isSupported()) throw new Error("This browser cannot play recordings (no Media Source Extensions).");
    const hls = new Hls({ enableWorker: false, maxBufferLength: 20, startFragPrefetch: true });
    this.hls = hls;
    await new Promise((resolve, reject) => {
      hls.once(Hls.Events.MANIFEST_PARSED, resolve);
      hls.on(Hls.Events.ERROR, (_event, data) => {
        if (!data.fatal) return;
        reject(new Error(describe(data)));
        this.dispatchEvent(new CustomEvent("status", { detail: describe(data) }));
      });
      hls.loadSource(url);
      hls.attachMedia(this.video);
    });
    if (session !== this.session) return;
    await this.video.play().catch(() => { this.video.muted = true; return this.video.play(); });
    this.dispatchEvent(new Event("playing"));
  }

  /** The wall-clock instant being shown (timeline cursor, clip export), from PROGRAM-DATE-TIME. */
  wallClock() {
    return (this.hls && this.hls.playingDate) || null;
  }

  destroyHls() {
    if (this.hls) {
      this.hls.destroy();
      this.hls = null;
    }
  }

  stop() {
    this.session += 1;
    this.destroyHls();
    this.video.removeAttribute("src");
    this.video.load();
  }
}
