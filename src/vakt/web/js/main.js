// Boot: the app shell (navigation, connection state), routes, push channel and notifications.
import { currentUser, setUnauthorizedHandler } from "./api.js";
import { h, icon } from "./dom.js";
import { route, start, navigate } from "./router.js";
import { connect, onStatus } from "./ws.js";
import { startNotifications, onUnread } from "./notify.js";

route("/signin", () => import("./screens/auth.js"));
route("/register", () => import("./screens/auth.js"));
route("/", () => import("./screens/devices.js"));
route("/live", () => import("./screens/multiview.js"));
route("/notifications", () => import("./screens/notifications.js"));
route("/account", () => import("./screens/account.js"));
route("/devices/:id", () => import("./screens/device.js"));
route("/devices/:id/history", () => import("./screens/history.js"));
route("/devices/:id/settings", () => import("./screens/camera-settings.js"));
route("/devices/:id/panel", () => import("./screens/panel.js"));
route("/devices/:id/share", () => import("./screens/share.js"));
route("/oauth/authorize", () => import("./screens/link-assistant.js"));

const theme = localStorage.getItem("theme");
if (theme && theme !== "auto") document.documentElement.dataset.theme = theme;

const NAV = [
  ["/", "home", "Devices"],
  ["/live", "grid", "Live"],
  ["/notifications", "bell", "Alerts"],
  ["/account", "user", "Account"],
];

function navLinks() {
  return NAV.map(([href, ic, label]) => h("a", { class: "nav-link", href, dataset: { nav: href } },
    icon(ic), h("span", {}, label), href === "/notifications" ? h("span", { class: "badge-dot hidden" }) : null));
}

function buildShell() {
  const outlet = h("main", { class: "main", id: "outlet" });
  const conn = h("div", { class: "conn", title: "Live updates" }, "Connecting…");
  const side = h("nav", { class: "sidenav", "aria-label": "Main" },
    h("div", { class: "brand" }, h("span", { class: "brand-mark" }, icon("shield", 18)), "vakt"),
    navLinks(), h("div", { class: "nav-spacer" }), conn);
  const bottom = h("nav", { class: "bottomnav", "aria-label": "Main" }, navLinks());
  const shell = h("div", { class: "shell" }, side, outlet, bottom);
  onStatus((up) => {
    conn.classList.toggle("up", up);
    conn.textContent = up ? "Live" : "Reconnecting…";
  });
  onUnread((n) => {
    for (const b of shell.querySelectorAll(".badge-dot")) {
      b.textContent = n > 99 ? "99+" : String(n);
      b.classList.toggle("hidden", n === 0);
    }
  });
  outlet.addEventListener("routed", (ev) => {
    const path = ev.detail.path;
    const bare = path === "/signin" || path === "/register";
    side.classList.toggle("hidden", bare);
    bottom.classList.toggle("hidden", bare);
    shell.style.display = bare ? "block" : "";
    outlet.classList.toggle("main", !bare);
    for (const a of shell.querySelectorAll("[data-nav]")) {
      const href = a.dataset.nav;
      a.classList.toggle("active", href === "/" ? path === "/" || path.startsWith("/devices") : path.startsWith(href));
    }
  });
  return { shell, outlet };
}

async function boot() {
  const { shell, outlet } = buildShell();
  document.getElementById("app").replaceChildren(shell);
  setUnauthorizedHandler(() => {
    if (!["/signin", "/register"].includes(location.pathname)) navigate(`/signin?next=${encodeURIComponent(location.pathname + location.search)}`);
  });
  const user = await currentUser();
  if (!user && !["/signin", "/register"].includes(location.pathname)) {
    history.replaceState({}, "", `/signin?next=${encodeURIComponent(location.pathname + location.search)}`);
  }
  if (user) startSession();
  await start(outlet);
}

let sessionStarted = false;
export function startSession() {
  if (sessionStarted) return;
  sessionStarted = true;
  connect();
  startNotifications();
}

window.addEventListener("vakt:signed-in", startSession);
boot();
