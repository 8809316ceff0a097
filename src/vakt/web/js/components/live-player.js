// A live tile: JPEG snapshot while the stream starts, then the MSE-fed <video> (C5.1).
import { h } from "../dom.js";
import { MsePlayer } from "../mse-player.js";

export function livePlayer(device, { title = true, definition } = {}) {
  const video = h("video", { muted: true, playsinline: true, autoplay: true, disablePictureInPicture: true });
  const poster = h("img", { class: "poster", alt: "", src: `/api/cameras/${device.id}/snapshot?ts=${Date.now()}` });
  poster.onerror = () => poster.classList.add("hidden");
  const status = h("div", { class: "status-msg hidden" });
  const rec = h("span", { class: "rec-badge hidden" }, "REC");
  const el = h("div", { class: "player", dataset: { deviceId: device.id } },
    poster, video, h("div", { class: "spinner" }),
    h("div", { class: "overlay-top" }, h("span", { class: "live-badge" }, "LIVE"),
      title ? h("span", { class: "grow" }, device.name || device.serial) : h("span", { class: "grow" }), rec),
    status);
  const qs = definition ? `?definition=${encodeURIComponent(definition)}` : "";
  const player = new MsePlayer(video, `/api/cameras/${device.id}/live${qs}`);
  player.addEventListener("playing", () => el.classList.add("playing"));
  player.addEventListener("status", (ev) => {
    status.textContent = ev.detail;
    status.classList.toggle("hidden", !ev.detail);
  });
  player.addEventListener("failed", () => el.classList.add("failed"));
  player.start();
  return {
    el,
    video,
    player,
    setRecording(on) { rec.classList.toggle("hidden", !on); },
    destroy() { player.stop(); },
  };
}
