// LED descriptions from device state -> colour and pattern classes; accepts "fast-flashing red",
// {"color": "red", "pattern": "flash_fast"} or {"color": ..., "mode": ...}.
export function parseLed(v) {
  if (!v) return { color: null, pattern: "off" };
  if (typeof v === "string") {
    const s = v.toLowerCase().replace(/[_-]/g, " ");
    const color = ["red", "blue", "green", "white", "orange"].find((c) => s.includes(c)) || null;
    const pattern = s.includes("off") || !color ? "off" : s.includes("fast") ? "flash-fast" : s.includes("slow") ? "flash-slow" : "solid";
    return { color, pattern };
  }
  const color = v.color || v.colour || null;
  const raw = String(v.pattern || v.mode || v.state || (v.on === false ? "off" : "solid")).toLowerCase();
  const pattern = raw.includes("off") || !color ? "off" : raw.includes("fast") ? "flash-fast" : raw.includes("slow") ? "flash-slow" : "solid";
  return { color, pattern };
}

export function ledClasses(base, v) {
  const { color, pattern } = parseLed(v);
  return pattern === "off" ? base : `${base} ${color} on ${pattern === "solid" ? "" : pattern}`;
}

export function ledText(v) {
  const { color, pattern } = parseLed(v);
  if (pattern === "off") return "off";
  return `${pattern === "solid" ? "solid" : pattern === "flash-fast" ? "fast-flashing" : "slow-flashing"} ${color}`;
}
