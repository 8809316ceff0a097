// Recorded video (C7.2) in a <video> through MSE: Chromium has no native HLS, so the app reads the hub's
// playlist and appends its fMP4 segments itself (each segment file carries its own init section).

function parsePlaylist(text, base) {
  const segments = [];
  let offset = 0;
  let pdt = null;
  let duration = 0;
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#EXT-X-START:")) offset = Number((line.match(/TIME-OFFSET=([\d.]+)/) || [])[1] || 0);
    else if (line.startsWith("#EXT-X-PROGRAM-DATE-TIME:")) pdt = new Date(line.slice(25));
    else if (line.startsWith("#EXTINF:")) duration = Number.parseFloat(line.slice(8));
    else if (line && !line.startsWith("#")) {
      const url = new URL(line, base).href;
      if (!segments.length || segments[segments.length - 1].url !== url) segments.push({ url, start: pdt, duration });
    }
  }
  return { segments, offset };
}

// The avc1 codec string from the avcC box of an init section (profile, compatibility, level).
function codecOf(bytes) {
  const hex = (n) => n.toString(16).padStart(2, "0");
  let video = null;
  for (let i = 0; i < bytes.length - 8; i += 1) {
    if (bytes[i] === 0x61 && bytes[i + 1] === 0x76 && bytes[i + 2] === 0x63 && bytes[i + 3] === 0x43) {
      video = `avc1.${hex(bytes[i + 5])}${hex(bytes[i + 6])}${hex(bytes[i + 7])}`;
      break;
    }
  }
  const text = new TextDecoder("latin1").decode(bytes.subarray(0, Math.min(bytes.length, 4096)));
  const audio = text.includes("mp4a") ? "mp4a.40.2" : null;
  return [video || "avc1.42e01e", audio].filter(Boolean).join(",");
}

export class PlaybackPlayer extends EventTarget {
  constructor(video) {
    super();
    this.video = video;
    this.session = 0;
  }

  async play(deviceId, at) {
    const session = ++this.session;
    this.stopMedia();
    const url = `/api/cameras/${deviceId}/history/playlist.m3u8?at=${encodeURIComponent(at.toISOString())}`;
    const res = await fetch(url, { credentials: "same-origin" });
    if (!res.ok) {
      let detail = `No footage there (${res.status}).`;
      try { detail = (await res.json()).detail || detail; } catch { /* not JSON */ }
      throw new Error(detail);
    }
    const { segments, offset } = parsePlaylist(await res.text(), new URL(url, location.href));
    if (!segments.length || session !== this.session) return;
    this.segments = segments;
    this.next = 0;
    const first = new Uint8Array(await (await fetch(segments[0].url, { credentials: "same-origin" })).arrayBuffer());
    const mime = `video/mp4; codecs="${codecOf(first)}"`;
    if (!MediaSource.isTypeSupported(mime)) throw new Error(`This browser cannot play ${mime}.`);
    const ms = new MediaSource();
    this.ms = ms;
    this.video.src = URL.createObjectURL(ms);
    await new Promise((resolve) => ms.addEventListener("sourceopen", resolve, { once: true }));
    if (session !== this.session) return;
    this.sb = ms.addSourceBuffer(mime);
    this.sb.mode = "sequence"; // segments play back to back; wall time comes from the playlist
    await this.append(first);
    this.next = 1;
    this.video.currentTime = Math.min(offset, Math.max(0, segments[0].duration - 0.1));
    await this.video.play().catch(() => { this.video.muted = true; return this.video.play(); });
    this.dispatchEvent(new Event("playing"));
    this.feed(session);
  }

  append(bytes) {
    return new Promise((resolve, reject) => {
      const sb = this.sb;
      const done = () => { sb.removeEventListener("error", fail); resolve(); };
      const fail = () => { sb.removeEventListener("updateend", done); reject(new Error("the segment could not be played")); };
      sb.addEventListener("updateend", done, { once: true });
      sb.addEventListener("error", fail, { once: true });
      sb.appendBuffer(bytes);
    });
  }

  // Keep about 20 s buffered ahead of the playhead, fetching one segment at a time.
  async feed(session) {
    while (session === this.session && this.next < this.segments.length) {
      const v = this.video;
      const ahead = v.buffered.length ? v.buffered.end(v.buffered.length - 1) - v.currentTime : 0;
      if (ahead > 20) { await new Promise((r) => setTimeout(r, 1000)); continue; }
      try {
        const res = await fetch(this.segments[this.next].url, { credentials: "same-origin" });
        if (!res.ok) throw new Error(`segment ${res.status}`);
        const bytes = new Uint8Array(await res.arrayBuffer());
        if (session !== this.session) return;
        await this.append(bytes);
        this.next += 1;
      } catch (err) {
        this.dispatchEvent(new CustomEvent("status", { detail: err.message }));
        return;
      }
    }
    if (session === this.session && this.ms && this.ms.readyState === "open" && !this.sb.updating) this.ms.endOfStream();
  }

  // The wall-clock instant being shown (for the timeline cursor and clip export).
  wallClock() {
    if (!this.segments || !this.segments.length) return null;
    let t = this.video.currentTime;
    for (const seg of this.segments.slice(0, Math.max(this.next, 1))) {
      if (t <= seg.duration) return new Date(seg.start.getTime() + t * 1000);
      t -= seg.duration;
    }
    const last = this.segments[Math.max(this.next, 1) - 1];
    return new Date(last.start.getTime() + last.duration * 1000);
  }

  stopMedia() {
    this.sb = null;
    if (this.ms) {
      try { if (this.ms.readyState === "open") this.ms.endOfStream(); } catch { /* closed */ }
      URL.revokeObjectURL(this.video.src);
      this.ms = null;
    }
  }

  stop() {
    this.session += 1;
    this.stopMedia();
    this.video.removeAttribute("src");
    this.video.load();
  }
}
