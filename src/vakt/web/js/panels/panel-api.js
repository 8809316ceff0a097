// Physical inputs of emulated devices, sent through the hub (routers/panels.py) as `panel.input`.
import { api } from "../api.js";
import { toast } from "../toast.js";

// Inputs reach the device one after another, in the order they were made (a person types 3571# in order).
let chain = Promise.resolve();

export function press(deviceId, input, value, extra = {}) {
  const run = async () => {
    try {
      return await api.post(`/api/panels/${deviceId}/input`, { input, value, ...extra });
    } catch (err) {
      toast(err.message, { kind: "error", title: "Device panel" });
      return null;
    }
  };
  const next = chain.then(run);
  chain = next.catch(() => null);
  return next;
}

export const PROMPTS = {
  welcome: "Welcome",
  menu: "Menu: enter a setting code",
  verify_admin: "Verify an administrator",
  enter_setting: "Enter a setting code",
  touch_finger: "Place your finger",
  touch_again: "Place your finger again",
  enter_code: "Enter the code, then #",
  enter_code_again: "Enter the code again, then #",
  present_card: "Hold the card to the reader",
  enter_number: "Enter the number, then #",
  confirm: "Press # to confirm",
  success: "Done",
  failure: "Verification failed",
  unlocked: "Unlocked",
  locked: "Locked",
  already_exists: "Already stored",
  storage_full: "Storage full",
  cannot_delete_current: "Cannot delete the credential in use",
  number_empty: "That number is empty",
  invalid_setting: "Invalid setting",
  invalid_code_length: "Codes are 6 to 10 digits",
  codes_differ: "The codes differ",
  not_admin: "Not an administrator",
  not_valid_now: "Not valid now",
  locked_out: "System locked, try later",
  low_battery: "Replace the batteries",
  privacy_mode: "Privacy mode: door locked from inside",
  passage_mode_ended: "Normally-open mode ended",
  pairing: "Pairing: add the lock in the app",
  pairing_ended: "Pairing ended",
  factory_reset_confirm: "Press # to reset to factory settings",
  factory_reset_done: "Factory settings restored",
  initialized: "Initialized",
  menu_closed: "Menu closed",
};

export function promptText(p) {
  if (!p) return "";
  const id = typeof p === "string" ? p : p.prompt || p.id || p.name;
  return PROMPTS[id] || String(id).replace(/_/g, " ");
}
