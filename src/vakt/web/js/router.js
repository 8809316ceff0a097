// A tiny history-API router: patterns like "/cameras/:id/history" map to screen modules.

const routes = [];
let current = null;
let outlet = null;

export function route(pattern, load) {
  const keys = [];
  const re = new RegExp(`^${pattern.replace(/:(\w+)/g, (_, k) => { keys.push(k); return "([^/]+)"; })}/?$`);
  routes.push({ re, keys, load });
}

export function navigate(path, { replace = false } = {}) {
  if (path === location.pathname + location.search && !replace) return render();
  history[replace ? "replaceState" : "pushState"]({}, "", path);
  return render();
}

export function start(el) {
  outlet = el;
  addEventListener("popstate", render);
  document.addEventListener("click", (ev) => {
    const a = ev.target.closest("a[href]");
    if (!a || a.target || a.hasAttribute("download") || ev.metaKey || ev.ctrlKey || ev.button !== 0) return;
    const url = new URL(a.href);
    if (url.origin !== location.origin || url.pathname.startsWith("/api/")) return;
    ev.preventDefault();
    navigate(url.pathname + url.search);
  });
  return render();
}

async function render() {
  const path = location.pathname;
  for (const r of routes) {
    const m = path.match(r.re);
    if (!m) continue;
    const params = Object.fromEntries(r.keys.map((k, i) => [k, decodeURIComponent(m[i + 1])]));
    params.query = new URLSearchParams(location.search);
    if (current && current.destroy) current.destroy();
    current = null;
    const mod = await r.load();
    const view = await mod.default(params);
    current = view;
    outlet.replaceChildren(view.el);
    document.title = view.title ? `${view.title} · vakt` : "vakt";
    outlet.dispatchEvent(new CustomEvent("routed", { bubbles: true, detail: { path } }));
    window.scrollTo(0, 0);
    return;
  }
  return navigate("/", { replace: true });
}

export function currentPath() { return location.pathname; }
