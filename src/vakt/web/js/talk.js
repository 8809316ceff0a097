// Two-way audio (C5.3): while held, the microphone goes to the camera's speaker as 16 kHz mono s16le.

export class Talk extends EventTarget {
  constructor(deviceId) {
    super();
    this.deviceId = deviceId;
    this.active = false;
  }

  async start() {
    if (this.active) return;
    this.active = true;
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: false, autoGainControl: false },
      });
      this.ctx = new AudioContext();
      await this.ctx.audioWorklet.addModule("/static/js/pcm-worklet.js");
      this.ws = await this.open();
      if (!this.active) { this.stop(); return; }
      const source = this.ctx.createMediaStreamSource(this.stream);
      this.node = new AudioWorkletNode(this.ctx, "pcm-encoder");
      this.node.port.onmessage = (ev) => {
        if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(ev.data);
      };
      source.connect(this.node);
      this.dispatchEvent(new Event("started"));
    } catch (err) {
      this.stop();
      this.dispatchEvent(new CustomEvent("error", { detail: err.message || String(err) }));
    }
  }

  open() {
    const proto = location.protocol === "https:" ? "wss" : "ws";
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${proto}://${location.host}/api/cameras/${this.deviceId}/talk`);
      ws.binaryType = "arraybuffer";
      ws.onopen = () => resolve(ws);
      ws.onmessage = (ev) => {
        try {
          const msg = JSON.parse(ev.data);
          if (msg.error) this.dispatchEvent(new CustomEvent("error", { detail: msg.error }));
        } catch { /* not for us */ }
      };
      ws.onclose = (ev) => {
        if (ev.code !== 1000 && ev.reason) this.dispatchEvent(new CustomEvent("error", { detail: ev.reason }));
        reject(new Error(ev.reason || "Talk connection refused."));
      };
    });
  }

  stop() {
    this.active = false;
    if (this.node) { this.node.port.onmessage = null; this.node.disconnect(); this.node = null; }
    if (this.stream) { this.stream.getTracks().forEach((t) => t.stop()); this.stream = null; }
    if (this.ctx) { this.ctx.close().catch(() => {}); this.ctx = null; }
    // Let the last chunks leave before closing.
    const ws = this.ws;
    this.ws = null;
    if (ws) setTimeout(() => ws.close(1000, "done"), 150);
    this.dispatchEvent(new Event("stopped"));
  }
}
