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
