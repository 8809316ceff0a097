// Builds setting rows from a pydantic JSON schema (titles, descriptions, bounds, enums), so labels and
// limits come from the one settings model (CameraSettings, C6). Each change is saved on its own.
import { h } from "../dom.js";

function resolve(schema, prop) {
  if (prop.$ref) return { ...schema.$defs[prop.$ref.split("/").pop()], ...prop, $ref: undefined };
  if (prop.allOf && prop.allOf.length === 1 && prop.allOf[0].$ref) return { ...resolve(schema, prop.allOf[0]), ...prop, allOf: undefined };
  return prop;
}

function control(name, prop, value, save) {
  if (prop.readOnly) return h("span", { class: "muted mono", dataset: { setting: name } }, String(value ?? ""));
  if (prop.type === "boolean") {
    const box = h("input", { type: "checkbox", checked: Boolean(value), "aria-label": prop.title || name, dataset: { setting: name } });
    box.addEventListener("change", () => save(name, box.checked, () => { box.checked = !box.checked; }));
    return h("span", { class: "switch" }, box, h("span"));
  }
  if (prop.enum) {
    const sel = h("select", { class: "input", dataset: { setting: name }, "aria-label": prop.title || name },
      prop.enum.map((v) => h("option", { value: v, selected: v === value }, String(v))));
    let prev = value;
    sel.addEventListener("change", () => save(name, sel.value, () => { sel.value = prev; }, () => { prev = sel.value; }));
    return sel;
  }
  if (prop.type === "integer" || prop.type === "number") {
    const min = prop.minimum ?? prop.exclusiveMinimum;
    const max = prop.maximum ?? prop.exclusiveMaximum;
    const out = h("span", { class: "chip accent", style: { minWidth: "44px", justifyContent: "center" } }, String(value));
    const range = h("input", { type: "range", min, max, step: prop.type === "integer" ? 1 : "any", value, dataset: { setting: name }, "aria-label": prop.title || name, style: { width: "160px" } });
    let prev = value;
    range.addEventListener("input", () => { out.textContent = range.value; });
    range.addEventListener("change", () => save(name, Number(range.value), () => { range.value = prev; out.textContent = prev; }, () => { prev = Number(range.value); }));
    return h("span", { class: "row", style: { flexWrap: "nowrap" } }, range, out);
  }
  const attrs = { class: "input", value: value ?? "", maxlength: prop.maxLength, dataset: { setting: name }, "aria-label": prop.title || name };
  let list = null;
  if (/time_?zone/i.test(name) && Intl.supportedValuesOf) {
    attrs.list = `${name}-options`;
    list = h("datalist", { id: attrs.list }, Intl.supportedValuesOf("timeZone").map((z) => h("option", { value: z })));
  }
  const inp = h("input", attrs);
  let prev = value;
  inp.addEventListener("change", () => save(name, inp.value, () => { inp.value = prev; }, () => { prev = inp.value; }));
  return h("span", {}, inp, list);
}

export function schemaRows(schema, values, fields, save) {
  const props = schema.properties || {};
  return fields.filter((f) => props[f]).map((name) => {
    const prop = resolve(schema, props[name]);
    return h("div", { class: "setting-row", dataset: { field: name } },
      h("div", { class: "grow" }, h("div", { class: "label" }, prop.title || name),
        prop.description ? h("div", { class: "desc" }, prop.description) : null),
      control(name, prop, values[name] ?? prop.default, save));
  });
}

// Fields of the schema not placed in any group still get shown, so nothing in the model is hidden.
export function ungrouped(schema, groups) {
  const placed = new Set(groups.flatMap((g) => g[1]));
  return Object.keys(schema.properties || {}).filter((k) => !placed.has(k));
}
