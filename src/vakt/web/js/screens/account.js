// Account: who is signed in, sessions (A1), password, invites, account deletion, remote-unlock PIN,
// browser push (A4), linked voice assistants (C11), theme, sign out.
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

  const pinForm = h("form", { id: "pin-form" },
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

  // Linked assistants (C11): each one's tokens are revoked at once by Unlink.
  const assistants = h("div", { class: "list", id: "linked-assistants" }, h("div", { class: "skeleton" }));
  const loadAssistants = async () => {
    try {
      const rows = await api.get("/api/oauth/links");
      assistants.replaceChildren(...(rows.length ? rows.map((a) => h("div", { class: "list-item" },
        h("div", { class: "grow" }, h("div", { class: "title" }, a.name),
          h("div", { class: "meta" }, `${a.assistant === "google" ? "Google Assistant" : "Amazon Alexa"} · linked ${timeAgo(a.linked_at)}`)),
        h("button", { class: "btn btn-sm btn-ghost", onclick: async () => {
          try { await api.del(`/api/oauth/links/${encodeURIComponent(a.client_id)}`); toast(`${a.name} unlinked.`, { kind: "ok" }); loadAssistants(); } catch (err) { toastError(err); }
        } }, "Unlink"))) : [h("div", { class: "meta" }, "No assistant is linked. Link one from the Alexa or Google Home app.")]));
    } catch (err) { assistants.replaceChildren(h("div", { class: "meta" }, err.message)); }
  };
  loadAssistants();

  const signOutOthers = h("button", { class: "btn btn-sm", id: "sign-out-others" }, "Sign out all other sessions");
  signOutOthers.onclick = () => busy(signOutOthers, async () => {
    try {
      const r = await api.post("/api/auth/sessions/sign-out-others");
      toast(`${r.signed_out} other session(s) signed out.`, { kind: "ok" });
      loadSessions();
    } catch (err) { toastError(err); }
  });

  // A form of password fields whose submit calls send(values); cleared when it succeeds.
  const secretForm = (id, fields, label, send, cls = "btn btn-primary") => {
    const form = h("form", { id }, ...fields.map(([name, text, auto]) =>
      field(text, input({ name, type: "password", required: true, autocomplete: auto }))),
    h("button", { class: cls, type: "submit" }, label));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const values = Object.fromEntries(new FormData(form).entries());
      try { await busy(form.querySelector("button"), () => send(values)); form.reset(); } catch (err) { toastError(err); }
    });
    return form;
  };
  const passwordForm = secretForm("password-form",
    [["current_password", "Current password", "current-password"], ["new_password", "New password (at least 10 characters)", "new-password"]],
    "Change password", async (v) => {
      const r = await api.put("/api/auth/password", v);
      toast(`Password changed; ${r.signed_out} other session(s) signed out.`, { kind: "ok" });
      loadSessions();
    });

  const inviteOut = h("div", { class: "meta" });
  const invite = h("button", { class: "btn btn-sm", id: "invite" }, "Invite someone");
  invite.onclick = () => busy(invite, async () => {
    try {
      const r = await api.post("/api/auth/invites");
      const link = input({ readonly: true, value: location.origin + r.url, "aria-label": "Invite link" });
      inviteOut.replaceChildren(h("p", { class: "muted small" }, `Single use, valid until ${new Date(r.expires_at).toLocaleString()}:`), link);
      link.select();
    } catch (err) { toastError(err); }
  });

  const deleteForm = secretForm("delete-account-form", [["password", "Account password", "current-password"]],
    "Delete account", async (v) => {
      if (!confirm("Delete your account? Your devices are removed from the hub with their history; shares you were given end.")) return;
      await api.del("/api/auth/me", v);
      forgetUser();
      disconnect();
      navigate("/signin");
      location.reload();
    }, "btn btn-danger");

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
        h("div", { class: "card" }, h("div", { class: "card-title" }, h("h3", {}, "Signed-in sessions")), sessions,
          h("div", { class: "setting-row" }, signOutOthers)),
        h("div", { class: "card" }, h("div", { class: "card-title" }, h("h3", {}, "Password")),
          h("p", { class: "muted small", style: { marginTop: 0 } }, "Every other session is signed out."), passwordForm)),
      h("div", { class: "stack" },
        h("div", { class: "card" }, h("div", { class: "card-title" }, h("h3", {}, "Remote unlock PIN")),
          h("p", { class: "muted small", style: { marginTop: 0 } }, "Asked before every unlock from the app."), pinForm),
        h("div", { class: "card" }, h("div", { class: "card-title" }, h("h3", {}, "Linked assistants")),
          h("p", { class: "muted small", style: { marginTop: 0 } }, "Voice assistants acting for you; unlocking by voice asks for the PIN above."), assistants),
        h("div", { class: "card" }, h("div", { class: "card-title" }, h("h3", {}, "Invite")),
          h("p", { class: "muted small", style: { marginTop: 0 } }, "New accounts need an invite from the hub's owner."), invite, inviteOut),
        h("div", { class: "card" }, h("div", { class: "card-title" }, h("h3", {}, "Delete account")),
          h("p", { class: "muted small", style: { marginTop: 0 } }, "Your devices are removed from the hub with their history, free to be added again."), deleteForm))));
  return { el, title: "Account" };
}
