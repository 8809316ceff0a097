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

const PERMISSION_LABELS = { live_view: "Live view", history: "History", talk: "Talk", unlock: "Unlock", settings: "Settings" };

function describe(status, body) {
  const detail = body && body.detail;
  // The hub's "permission 'history' is needed for device 2", in the user's words (A5).
  const needed = typeof detail === "string" && status === 403 && detail.match(/^permission '(\w+)' is needed/);
  if (needed) return `This needs the “${PERMISSION_LABELS[needed[1]] || needed[1]}” permission, which the owner has not given you.`;
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

// ---- The hub's resources, typed once here (JSDoc, from the hub's pydantic models), so screens read
// ---- exact field names instead of guessing between several.

/**
 * GET /api/devices[/{id}] (vakt.hub.devices.DeviceOut).
 * @typedef {{id: number, serial: string, kind: "camera"|"lock"|"gateway", model: string, name: string,
 *   parent_id: number|null, online: boolean, battery: number|null, locked: boolean|null, alarms: string[],
 *   room: string, rssi: number|null, state: Record<string, any>, created_at: string, last_seen_at: string|null,
 *   is_owner: boolean, permissions: Permission[], shared_since: string|null}} Device
 * @typedef {"live_view"|"history"|"talk"|"unlock"|"settings"} Permission
 */

/**
 * GET /api/cameras/{id} (vakt.hub.routers.cameras.CameraOut).
 * @typedef {{device_id: number, name: string, serial: string, emulated: boolean, online: boolean,
 *   main_url: string, has_sub_stream: boolean, time_zone: string, recording_mode: string,
 *   definition: "ultra_hd"|"hi_def"|"standard", audio: boolean, retention_days: number,
 *   retention_max_mb: number|null, streaming: boolean, recording: boolean, manual_recording: boolean,
 *   recording_error: string|null, codec: string|null, permissions: Permission[]}} Camera
 */

/**
 * An emulated camera's micro SD card in its state (vakt.camera.sd.SdCard.summary), bytes.
 * @typedef {{status: "absent"|"not_initialized"|"initializing"|"normal"|"error", capacity: number,
 *   used: number, free: number, recordings: number}} SdCard
 */

/**
 * GET /api/notifications items and the "notification" push (vakt.hub.alerts.notifier.notification_json).
 * @typedef {{id: number, device_id: number|null, kind: string, title: string, body: string,
 *   person_event_id: number|null, snapshot_url: string|null, data: {camera_id?: number, live_view?: string},
 *   created_at: string, read: boolean}} Notification
 * @typedef {{items: Notification[], next_before: number|null, unread: number}} NotificationPage
 */

/**
 * GET /api/devices/{id}/shares (vakt.hub.routers.shares.ShareOut).
 * @typedef {{id: number, device_id: number, user_id: number, username: string, permissions: Permission[],
 *   created_at: string, expires_at: string|null, active: boolean}} Share
 */

/**
 * GET /api/devices/{id}/about (vakt.hub.routers.devices.DeviceAboutOut); qr only for the owner.
 * @typedef {{id: number, kind: string, name: string, model: string, serial: string, firmware: string|null,
 *   room: string, added_at: string, qr: string|null}} DeviceAbout
 */

/**
 * GET /api/locks/{id}/log items (vakt.hub.locks.Operation); data is the lock's own event (Matter fields).
 * @typedef {{event_id: string, ts: string, type: string, operation: string|null, source: string|null,
 *   credential_kind: "code"|"card"|"fingerprint"|null, credential_number: number|null, user_name: string|null,
 *   error: string|null, data: Record<string, any>}} Operation
 * GET /api/locks/{id}/alarms items (vakt.hub.routers.locks.AlarmOut).
 * @typedef {{event_id: string, ts: string, alarm_code: string|null, active: boolean}} LockAlarm
 * The "device.event" push (vakt.protocol.Event): what the lock reported, as it reported it.
 * @typedef {{id: string, ts: string, source: string, type: string, data: Record<string, any>}} DeviceEvent
 */

/** What a camera answered to a control command (CommandOut). @typedef {{ok: boolean, result: object}} CommandOut */

export const hub = {
  /** @returns {Promise<Device[]>} */
  devices: () => api.get("/api/devices"),
  /** @param {number|string} id @returns {Promise<Device>} */
  device: (id) => api.get(`/api/devices/${id}`),
  /** Rename or move to a room. @param {number} id @param {{name?: string, room?: string}} changes @returns {Promise<Device>} */
  updateDevice: (id, changes) => api.patch(`/api/devices/${id}`, changes),
  /** @param {number} id @returns {Promise<DeviceAbout>} */
  deviceAbout: (id) => api.get(`/api/devices/${id}/about`),
  /** Dismiss one of the account's own notifications. @param {number} id @returns {Promise<null>} */
  dismissNotification: (id) => api.del(`/api/notifications/${id}`),
  /**
   * The lock's operation log (vakt.hub.locks.Operation), newest first.
   * @param {number} id @param {{limit?: number, before?: string|null, type?: string, source?: string}} [opts]
   * @returns {Promise<Operation[]>}
   */
  lockLog: (id, { limit = 50, before = null, type = "", source = "" } = {}) => {
    const qs = new URLSearchParams({ limit: String(limit) });
    if (before) qs.set("before", before);
    if (type) qs.set("type", type);
    if (source) qs.set("source", source);
    return api.get(`/api/locks/${id}/log?${qs}`);
  },
  /** @param {number} id @param {number} [limit] @returns {Promise<LockAlarm[]>} */
  lockAlarms: (id, limit = 50) => api.get(`/api/locks/${id}/alarms?limit=${limit}`),
  /** @param {number} id @returns {Promise<Camera>} */
  camera: (id) => api.get(`/api/cameras/${id}`),
  /** @param {number} id @returns {Promise<{schema: object, values: Record<string, unknown>}>} */
  cameraSettings: (id) => api.get(`/api/cameras/${id}/settings`),
  /** @param {number} id @param {Record<string, unknown>} changes @returns {Promise<{values: Record<string, unknown>}>} */
  saveCameraSettings: (id, changes) => api.patch(`/api/cameras/${id}/settings`, changes),
  /** C6 Restart. @param {number} id @returns {Promise<CommandOut>} */
  restartCamera: (id) => api.post(`/api/cameras/${id}/restart`),
  /** C4.1. @param {number} id @returns {Promise<CommandOut>} */
  initializeStorage: (id) => api.post(`/api/cameras/${id}/storage/initialize`),
  /** C3.3. @param {number} id @param {string} ssid @returns {Promise<CommandOut>} */
  changeWifi: (id, ssid) => api.post(`/api/cameras/${id}/wifi`, { ssid }),
  /** C5.1: the JPEG as a Response. @param {number} id @returns {Promise<Response>} */
  snapshot: (id) => api.get(`/api/cameras/${id}/snapshot`, { raw: true }),
  /** @param {{unreadOnly?: boolean, limit?: number, before?: number|null}} [opts] @returns {Promise<NotificationPage>} */
  notifications: ({ unreadOnly = false, limit = 100, before = null } = {}) =>
    api.get(`/api/notifications?limit=${limit}${unreadOnly ? "&unread_only=true" : ""}${before ? `&before=${before}` : ""}`),
  /** @param {number} id @returns {Promise<Share[]>} */
  shares: (id) => api.get(`/api/devices/${id}/shares`),
};
