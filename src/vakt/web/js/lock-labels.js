// Words a person understands for the lock's own vocabulary (vakt.lock: Matter Door Lock enums, prompts).
// One mapping per enum, keyed by the enum's values exactly as the lock sends them; a test
// (tests/lock/test_web_labels.py) checks that every value of every enum has its words here.

export const ALARM = {
  WrongCodeEntryLimit: "Too many wrong attempts: keypad locked for 3 minutes",
  FrontEsceutcheonRemoved: "Front panel removed (tamper alarm)",
  LockJammed: "Bolt blocked",
  LockFactoryReset: "Lock reset to factory settings",
  DoorForcedOpen: "Door forced open",
  MemoryDamaged: "Lock memory damaged: it stays locked until restored",
};

export const OPERATION_SOURCE = {
  Unspecified: "unknown",
  Manual: "by hand",
  Keypad: "door code",
  Auto: "auto-relock",
  Button: "inside button",
  Remote: "the app",
  RFID: "card",
  Biometric: "fingerprint",
};

export const OPERATION_ERROR = {
  Unspecified: "refused",
  InvalidCredential: "wrong code, card or finger",
  DisabledUserDenied: "credential not valid now",
  Restricted: "not allowed now",
  InsufficientBattery: "batteries dead",
};

export const CREDENTIAL_TYPE = { PIN: "Door code", RFID: "Card", Fingerprint: "Fingerprint" };
export const LOCK_DATA_TYPE = { ...CREDENTIAL_TYPE, ProgrammingCode: "Programming code" };
export const DATA_OPERATION = { Add: "added", Clear: "removed", Modify: "changed" };
export const LOCK_OPERATION = { Lock: "Locked", Unlock: "Unlocked" };

export const USER_TYPE = {
  UnrestrictedUser: "user",
  YearDayScheduleUser: "user on a schedule",
  ProgrammingUser: "administrator",
  NonAccessUser: "disabled",
  DisposableUser: "limited uses",
  ExpiringUser: "time-limited",
};

export const OPERATING_MODE = { Normal: "Normal", Passage: "Normally open", Privacy: "Do not disturb" };

export const EVENT_TYPE = {
  LockOperation: "Lock / unlock",
  LockOperationError: "Failed attempts",
  LockUserChange: "Credential changes",
  DoorLockAlarm: "Alarms",
  Doorbell: "Doorbell",
  LowBattery: "Low battery",
  PairingMode: "Pairing",
  OperatingModeChanged: "Mode changes",
};

// Voice prompts (vakt.lock.types.Prompt), shown on the lock panel as the lock would say them.
export const PROMPT = {
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
  bolt_jammed: "The bolt is blocked",
  storage_error: "Could not save: nothing was changed",
  memory_damaged: "Memory damaged: restore it from the app or reset it inside",
};

// A value the lock sent that this app does not know yet: shown as it is, never hidden.
const lookup = (table, value) => (value === undefined || value === null ? "" : table[value] ?? String(value));

export const alarmLabel = (code) => lookup(ALARM, code);
export const sourceLabel = (source) => lookup(OPERATION_SOURCE, source);
export const errorLabel = (error) => lookup(OPERATION_ERROR, error);
export const credentialLabel = (type) => lookup(CREDENTIAL_TYPE, type);
export const userTypeLabel = (type) => lookup(USER_TYPE, type);
export const modeLabel = (mode) => lookup(OPERATING_MODE, mode);
export const promptLabel = (prompt) => lookup(PROMPT, prompt);

// Where a credential change was made (LockUserChange.operation_source: Keypad or Remote).
const CHANGED_AT = { Keypad: "at the keypad", Remote: "from the app" };

export function userChangeLabel(data) {
  const what = lookup(LOCK_DATA_TYPE, data.lock_data_type);
  const op = lookup(DATA_OPERATION, data.data_operation_type);
  const which = data.data_index === null || data.data_index === undefined ? `All ${what.toLowerCase()}s` : `${what} #${data.data_index}`;
  const where = CHANGED_AT[data.operation_source] ?? (data.operation_source ? `by ${sourceLabel(data.operation_source)}` : "");
  return [which, op, where].filter(Boolean).join(" ");
}
