// Add a device (A2, G4, G5): type or scan its QR label; a lock is paired through a chosen gateway.
// Or any RTSP/H.264 camera by its address (V4), tested first.
import { api } from "../api.js";
import { h, icon } from "../dom.js";
import { busy, dialog, field, input } from "../form.js";
import { allDevices, loadDevices } from "../store.js";
import { toast } from "../toast.js";

const QR_RE = /^VAKT:1;/;

async function scanInto(target, video, status) {
  if (!("BarcodeDetector" in window)) {
    status.textContent = "This browser cannot read QR codes from the camera; type the code instead.";
    return null;
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
  } catch (err) {
    status.textContent = `Camera not available: ${err.message}`;
    return null;
  }
  video.srcObject = stream;
  video.classList.remove("hidden");
  await video.play().catch(() => {});
  const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
  status.textContent = "Point the camera at the QR label…";
  let stopped = false;
  const stop = () => { stopped = true; stream.getTracks().forEach((t) => t.stop()); video.classList.add("hidden"); };
  (async function loop() {
    while (!stopped) {
      try {
        const codes = await detector.detect(video);
        const hit = codes.find((c) => QR_RE.test(c.rawValue));
        if (hit) { target.value = hit.rawValue; status.textContent = "QR code read."; stop(); return; }
      } catch { /* frame not ready */ }
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return stop;
}

export function openAddDevice() {
  const qr = input({ name: "qr", id: "qr-payload", placeholder: "VAKT:1;S=…;C=…;M=…", required: true, autocomplete: "off", spellcheck: false });
  const name = input({ name: "name", id: "device-name", placeholder: "Front door", maxlength: 100 });
  const gateways = allDevices().filter((d) => d.kind === "gateway" && d.is_owner !== false);
  const gatewaySel = h("select", { class: "input", name: "gateway_id", id: "gateway-select" },
    h("option", { value: "" }, "— not a lock —"),
    gateways.map((g) => h("option", { value: g.id }, g.name || g.serial)));
  const video = h("video", { class: "hidden", playsinline: true, muted: true, style: { width: "100%", borderRadius: "12px", marginBottom: "10px" } });
  const scanStatus = h("div", { class: "hint small muted" });
  const error = h("div", { class: "form-error", role: "alert" });
  const submit = h("button", { class: "btn btn-primary", type: "submit", id: "add-device-submit" }, "Add device");
  let stopScan = null;
  const scanBtn = h("button", { class: "btn btn-ghost", type: "button", onclick: async () => { stopScan = await scanInto(qr, video, scanStatus); } },
    icon("scan", 18), "Scan");
  const form = h("form", {},
    video,
    field("QR code", h("div", { class: "row", style: { flexWrap: "nowrap" } }, qr, scanBtn),
      "The code under the gateway, on the camera, or behind the lock's battery cover."),
    scanStatus,
    field("Name (optional)", name),
    gateways.length ? field("Pair through gateway (locks)", gatewaySel, "Put the lock in pairing mode first: hold RESET 3 s until the 5 blinks.") : null,
    error,
    h("div", { class: "row end" }, submit));
  const rtspLink = h("button", { class: "btn btn-ghost btn-sm", type: "button", id: "add-rtsp" }, "Another camera, by its RTSP address…");
  const dlg = dialog("Add a device", h("div", {}, form, h("div", { class: "row end", style: { marginTop: "8px" } }, rtspLink)),
    { onclose: () => stopScan && stopScan() });
  rtspLink.onclick = () => { dlg.close(); openAddRtspCamera(); };
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    const payload = qr.value.trim();
    if (!QR_RE.test(payload)) { error.textContent = "That is not a vakt QR code (it starts with VAKT:1;)."; qr.setAttribute("aria-invalid", "true"); return; }
    const body = { qr: payload };
    if (name.value.trim()) body.name = name.value.trim();
    if (gatewaySel.value) body.gateway_id = Number(gatewaySel.value);
    try {
      const d = await busy(submit, () => api.post("/api/devices", body));
      await loadDevices(true);
      toast(`${d.name || d.serial} added.`, { kind: "ok" });
      dlg.close();
    } catch (err) {
      error.textContent = err.message;
    }
  });
  qr.focus();
}

// V4: a camera of another make, by its RTSP address (H.264); "Test connection" asks the hub to open it.
export function openAddRtspCamera() {
  const name = input({ name: "name", id: "rtsp-name", placeholder: "Driveway", maxlength: 100, required: true });
  const url = input({ name: "url", id: "rtsp-url", placeholder: "rtsp://admin:password@192.168.1.20:554/stream1", required: true, autocomplete: "off", spellcheck: false });
  const sub = input({ name: "sub_url", id: "rtsp-sub-url", placeholder: "optional: rtsp://…/stream2", autocomplete: "off", spellcheck: false });
  const result = h("div", { class: "hint small", id: "rtsp-test-result", role: "status" });
  const error = h("div", { class: "form-error", role: "alert" });
  const test = h("button", { class: "btn", type: "button", id: "rtsp-test" }, "Test connection");
  const submit = h("button", { class: "btn btn-primary", type: "submit", id: "rtsp-submit" }, "Add camera");
  const form = h("form", {},
    field("Name", name),
    field("Main stream address", url, "The camera's RTSP URL with its user name and password; it is stored encrypted."),
    field("Sub-stream address (optional)", sub, "A smaller stream for Standard definition."),
    result, error,
    h("div", { class: "row end" }, test, submit));
  const dlg = dialog("Add a camera by RTSP address", form);
  test.onclick = async () => {
    result.textContent = "";
    error.textContent = "";
    try {
      /** @type {{ok: boolean, codec: string|null, width: number|null, height: number|null, audio: string|null, error: string|null}} */
      const r = await busy(test, () => api.post("/api/cameras/probe", { url: url.value.trim() }));
      if (r.ok) result.textContent = `Connected: ${r.codec.toUpperCase()} ${r.width}×${r.height}${r.audio ? `, sound (${r.audio})` : ", no sound"}.`;
      else error.textContent = `Could not connect: ${r.error}.`;
    } catch (err) { error.textContent = err.message; }
  };
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    const body = { name: name.value.trim(), url: url.value.trim() };
    if (sub.value.trim()) body.sub_url = sub.value.trim();
    try {
      const cam = await busy(submit, () => api.post("/api/cameras", body));
      await loadDevices(true);
      toast(`${cam.name} added.`, { kind: "ok" });
      dlg.close();
    } catch (err) { error.textContent = err.message; }
  });
  name.focus();
}
