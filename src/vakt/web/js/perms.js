// What the signed-in user may do with a device (A5); owners may do everything.
export function can(d, permission) {
  if (!d) return false;
  if (d.is_owner !== false && !d.permissions) return true;
  if (d.is_owner) return true;
  return (d.permissions || []).includes(permission);
}
