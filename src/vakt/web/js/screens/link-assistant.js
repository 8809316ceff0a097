// Linking a voice assistant (C11, issue 13): the OAuth consent screen. It shows who asks and exactly
// which devices the assistant will see; Allow or Deny sends the browser back to the assistant.
import { api } from "../api.js";
import { h } from "../dom.js";
import { busy } from "../form.js";
import { toastError } from "../toast.js";

const PARAMS = ["response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method"];
const KIND = { lock: "Lock", camera: "Camera" };
const ASSISTANT = { alexa: "Amazon Alexa", google: "Google Assistant" };

export default async function linkAssistantScreen({ query }) {
  const request = Object.fromEntries(PARAMS.filter((k) => query.get(k) !== null).map((k) => [k, query.get(k)]));
  let consent;
  try {
    consent = await api.get(`/api/oauth/authorize?${new URLSearchParams(request)}`);
  } catch (err) {
    const el = h("section", { id: "link-assistant" }, h("div", { class: "card" },
      h("h1", {}, "Cannot link"), h("p", { class: "muted" }, err.message)));
    return { el, title: "Link an assistant" };
  }
  const row = (d, extra) => h("div", { class: "list-item" },
    h("div", { class: "grow" }, h("div", { class: "title" }, d.name), h("div", { class: "meta" }, extra || KIND[d.kind] || d.kind)));
  const answer = (allow) => async (ev) => {
    try {
      const r = await busy(ev.currentTarget, () => api.post("/api/oauth/authorize", { ...request, allow }));
      location.assign(r.redirect_to);
    } catch (err) { toastError(err); }
  };
  const el = h("section", { id: "link-assistant" },
    h("div", { class: "page-head" }, h("div", { class: "grow" },
      h("h1", {}, `Link ${consent.client_name}`),
      h("div", { class: "sub" }, `${ASSISTANT[consent.assistant] || consent.assistant} · returns to ${consent.redirect_host}`))),
    h("div", { class: "card" }, h("div", { class: "card-title" }, h("h3", {}, "It will see and operate")),
      consent.devices.length ? h("div", { class: "list", id: "exposed-devices" }, ...consent.devices.map((d) => row(d)))
        : h("p", { class: "muted" }, "No device: nothing of yours can be operated by voice."),
      h("p", { class: "muted small" }, "Unlocking asks for your remote-unlock PIN, with the same limits as the app.")),
    consent.hidden.length ? h("div", { class: "card" }, h("div", { class: "card-title" }, h("h3", {}, "It will not see")),
      h("div", { class: "list", id: "hidden-devices" }, ...consent.hidden.map((d) => row(d, d.reason)))) : null,
    h("div", { class: "setting-row" },
      h("button", { class: "btn btn-primary", id: "allow", onclick: answer(true) }, "Allow"),
      h("button", { class: "btn", id: "deny", onclick: answer(false) }, "Deny")));
  return { el, title: "Link an assistant" };
}
