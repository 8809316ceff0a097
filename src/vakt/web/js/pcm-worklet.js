// AudioWorklet: mixes the microphone to mono, resamples it to 16 kHz and posts s16le chunks of ~40 ms.
const TARGET_RATE = 16000;
const CHUNK = 640; // samples at 16 kHz = 40 ms

class PcmEncoder extends AudioWorkletProcessor {
  constructor() {
    super();
    this.step = sampleRate / TARGET_RATE;
    this.pos = 0; // fractional read position into the current input block
    this.prev = 0;
    this.out = new Int16Array(CHUNK);
    this.n = 0;
  }

  process(inputs) {
    const input = inputs[0];
    if (!input || !input.length) return true;
    const len = input[0].length;
    const mono = new Float32Array(len);
    for (const ch of input) for (let i = 0; i < len; i += 1) mono[i] += ch[i] / input.length;
    // Linear interpolation between samples; position -1 is the last sample of the previous block.
    while (this.pos < len) {
      const i = Math.floor(this.pos);
      const frac = this.pos - i;
      const a = i === 0 ? this.prev : mono[i - 1];
      const b = mono[i];
      const s = Math.max(-1, Math.min(1, a + (b - a) * frac));
      this.out[this.n++] = s < 0 ? s * 0x8000 : s * 0x7fff;
      if (this.n === CHUNK) {
        this.port.postMessage(this.out.buffer.slice(0));
        this.n = 0;
      }
      this.pos += this.step;
    }
    this.pos -= len;
    this.prev = mono[len - 1];
    return true;
  }
}

registerProcessor("pcm-encoder", PcmEncoder);
