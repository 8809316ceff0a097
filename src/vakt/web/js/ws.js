// The hub's push channel /api/ws: reconnects with backoff and fans messages out by type.

const listeners = new Map(); // type -> Set(fn); "*" gets everything
let socket = null;
let retry = 500;
let wanted = false;
const statusListeners = new Set();

export function on(type, fn) {
  if (!listeners.has(type)) listeners.set(type, new Set());
  listeners.get(type).add(fn);
  return () => listeners.get(type).delete(fn);
}

export function onStatus(fn) {
  statusListeners.add(fn);
  fn(socket && socket.readyState === WebSocket.OPEN);
  return () => statusListeners.delete(fn);
}

function emitStatus(up) { for (const fn of statusListeners) fn(up); }

function dispatch(msg) {
  for (const key of [msg.type, "*"]) {
    for (const fn of listeners.get(key) || []) {
      try { fn(msg); } catch (err) { console.error("ws listener failed", err); }
    }
  }
}

export function connect() {
  wanted = true;
  if (socket && socket.readyState <= WebSocket.OPEN) return;
  const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/ws`;
  socket = new WebSocket(url);
  socket.onopen = () => { retry = 500; emitStatus(true); dispatch({ type: "ws.open" }); };
  socket.onmessage = (ev) => {
    let msg;
    try { msg = JSON.parse(ev.data); } catch { return; }
    if (msg && typeof msg.type === "string") dispatch(msg);
  };
  socket.onclose = () => {
    emitStatus(false);
    socket = null;
    if (!wanted) return;
    setTimeout(connect, retry);
    retry = Math.min(retry * 2, 10000);
  };
}

export function disconnect() {
  wanted = false;
  if (socket) socket.close();
}
