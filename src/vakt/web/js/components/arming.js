// Arming mode (X4): Home, Away or Sleep decides which detections notify and sound active defense.
import { api } from "../api.js";
import { h } from "../dom.js";
import { toast, toastError } from "../toast.js";

const MODES = [["home", "Home", "People seen are kept in history; no alerts"], ["away", "Away", "Alerts and active defense"], ["sleep", "Sleep", "Alerts; siren outdoors only"]];

export function armingControl() {
  const el = h("div", { class: "segmented", role: "group", "aria-label": "Arming mode", id: "arming" },
    MODES.map(([value, label, title]) => h("button", { dataset: { value }, title, onclick: async () => {
      try {
        await api.put("/api/arming", { mode: value });
        set(value);
        toast(`Arming mode: ${label}. ${title}.`, { kind: "ok" });
      } catch (err) { toastError(err); }
    } }, label)));
  const set = (mode) => { for (const b of el.children) b.setAttribute("aria-pressed", String(b.dataset.value === mode)); };
  api.get("/api/arming").then((a) => set(a.mode)).catch(() => el.classList.add("hidden"));
  return el;
}
