// The hub's REST API: JSON in and out, the session cookie carries the login.

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

function describe(status, body) {
  const detail = body && body.detail;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail) && detail.length) {
    const first = detail[0];
    const where = (first.loc || []).filter((p) => p !== "body").join(".");
    return where ? `${where}: ${first.msg}` : first.msg;
  }
  if (status === 403) return "You don't have permission for this.";
  if (status === 404) return "Not found.";
  if (status >= 500) return "The hub had a problem; try again.";
  return `Request failed (${status}).`;
}

export async function request(method, path, body, { raw = false, signal } = {}) {
  const init = { method, credentials: "same-origin", headers: {}, signal };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    if (err.name === "AbortError") throw err;
    throw new ApiError(0, "Can't reach the hub. Check your connection.");
  }
  if (raw && res.ok) return res;
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = text; }
  if (!res.ok) {
    if (res.status === 401 && !path.startsWith("/api/auth/")) onUnauthorized();
    throw new ApiError(res.status, describe(res.status, data), data);
  }
  return data;
}

export const api = {
  get: (p, o) => request("GET", p, undefined, o),
  post: (p, b, o) => request("POST", p, b ?? {}, o),
  put: (p, b, o) => request("PUT", p, b ?? {}, o),
  patch: (p, b, o) => request("PATCH", p, b ?? {}, o),
  del: (p, b, o) => request("DELETE", p, b, o),
};

// Signed-in user, cached after the first call.
let me = null;
export async function currentUser(force = false) {
  if (me && !force) return me;
  try { me = await api.get("/api/auth/me"); } catch { me = null; }
  return me;
}
export function forgetUser() { me = null; }
