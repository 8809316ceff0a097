// Account: who is signed in, sessions (A1), remote-unlock PIN, browser push (A4), theme, sign out.
import { api, currentUser, forgetUser } from "../api.js";
import { h, icon, timeAgo } from "../dom.js";
import { busy, field, input } from "../form.js";
import { disconnect } from "../ws.js";
import { pushState, subscribePush, unsubscribePush } from "../push.js";
import { toast, toastError } from "../toast.js";
import { navigate } from "../router.js";

function clientLabel(ua) {
  if (!ua) return "Unknown client";
  const browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" : /Chrom(e|ium)\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : /python|httpx|curl/i.test(ua) ? "API client" : "Browser";
  const os = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Mac OS/.test(ua) ? "macOS" : /Windows/.test(ua) ? "Windows" : /Linux/.test(ua) ? "Linux" : "";
  return os ? `${browser} on ${os}` : browser;
}

export default async function accountScreen() {
  const me = await currentUser();
  const sessions = h("div", { class: "list" }, h("div", { class: "skeleton" }));
  const loadSessions = async () => {
    try {
      const rows = await api.get("/api/auth/sessions");
      sessions.replaceChildren(...rows.map((s) => h("div", { class: "list-item" },
        h("div", { class: "grow" }, h("div", { class: "title" }, clientLabel(s.user_agent), s.current ? h("span", { class: "chip accent", style: { marginLeft: "8px" } }, "This browser") : null),
          h("div", { class: "meta" }, `${s.client_address || ""} · active ${timeAgo(s.last_seen_at)}`)),
        s.current ? null : h("button", { class: "btn btn-sm btn-ghost", onclick: async () => {
          try { await api.del(`/api/auth/sessions/${s.id}`); loadSessions(); } catch (err) { toastError(err); }
        } }, "Revoke"))));
    } catch (err) { sessions.replaceChildren(h("div", { class: "meta" }, err.message)); }
  };
  loadSessions();

  const pushRow = h("div", { class: "setting-row" });
  const renderPush = async () => {
    const st = await pushState();
    const btn = h("button", { class: "btn btn-sm", id: "push-toggle" }, st.subscribed ? "Turn off" : "Turn on");
    btn.disabled = !st.supported;
    btn.onclick = () => busy(btn, async () => {
      try {
        if (st.subscribed) await unsubscribePush(); else await subscribePush();
        toast(st.subscribed ? "Push notifications off." : "Push notifications on for this browser.", { kind: "ok" });
      } catch (err) { toastError(err); }
      renderPush();
    });
    pushRow.replaceChildren(h("div", { class: "grow" }, h("div", { class: "label" }, "Browser notifications"),
      h("div", { class: "desc" }, st.supported ? (st.subscribed ? "This browser gets alerts even when vakt is closed." : "Get alerts even when vakt is closed.") : st.reason)), btn);
  };
  renderPush();

  const pinForm = h("form", {},
    field("Account password", input({ name: "password", type: "password", required: true, autocomplete: "current-password" })),
    field("Unlock PIN (4-8 digits)", input({ name: "pin", inputmode: "numeric", pattern: "[0-9]{4,8}", required: true, autocomplete: "off" })),
    h("button", { class: "btn btn-primary", type: "submit" }, me && me.has_unlock_pin ? "Change PIN" : "Set PIN"));
  pinForm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const fd = new FormData(pinForm);
    try {
      await busy(pinForm.querySelector("button"), () => api.put("/api/auth/unlock-pin", { password: fd.get("password"), pin: fd.get("pin") }));
      toast("Remote-unlock PIN saved.", { kind: "ok" });
      pinForm.reset();
    } catch (err) { toastError(err); }
  });

  const themeSel = h("div", { class: "segmented" }, [["auto", "Auto"], ["light", "Light"], ["dark", "Dark"]].map(([v, l]) =>
    h("button", { "aria-pressed": String((localStorage.getItem("theme") || "auto") === v), onclick: (ev) => {
      localStorage.setItem("theme", v);
      if (v === "auto") delete document.documentElement.dataset.theme; else document.documentElement.dataset.theme = v;
      for (const b of ev.currentTarget.parentElement.children) b.setAttribute("aria-pressed", String(b === ev.currentTarget));
    } }, l)));

  const signOut = h("button", { class: "btn btn-danger", id: "sign-out" }, icon("logout", 18), "Sign out");
  signOut.onclick = async () => {
    await api.post("/api/auth/logout").catch(() => {});
    forgetUser();
    disconnect();
    navigate("/signin");
    location.reload();
  };

  const el = h("section", {},
    h("div", { class: "page-head" }, h("div", { class: "grow" }, h("h1", {}, "Account"),
      h("div", { class: "sub" }, me ? `${me.username} · ${me.email}` : "")), signOut),
    h("div", { class: "cols" },
      h("div", { class: "stack" },
        h("div", { class: "card" }, h("div", { class: "card-title" }, h("h3", {}, "Preferences")),
          pushRow,
          h("div", { class: "setting-row" }, h("div", { class: "grow" }, h("div", { class: "label" }, "Appearance")), themeSel)),
        h("div", { class: "card" }, h("div", { class: "card-title" }, h("h3", {}, "Signed-in sessions")), sessions)),
      h("div", { class: "card" }, h("div", { class: "card-title" }, h("h3", {}, "Remote unlock PIN")),
        h("p", { class: "muted small", style: { marginTop: 0 } }, "Asked before every unlock from the app."), pinForm)));
  return { el, title: "Account" };
}
