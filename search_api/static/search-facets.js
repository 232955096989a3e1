// The facets widget of the storefront: the API's facets with their counts (disjunctive as the API counts
// them), drawn as a category tree, colour swatches, price ranges and value lists. A click gives the root a
// new filter list (the applied filters with this value added or taken away); the API does the rest.

import { el } from "/static/api.js";

const SHORT_LIST = 8;
const expanded = new Set(); // facets the shopper opened with "Show all" (kept across renders)

export function renderFacets(container, facets, filters, setFilters) {
  const current = filters || [];
  const redraw = (field) => {
    renderFacets(container, facets, filters, setFilters);
    const toggle = container.querySelector(`[data-facet-toggle="${CSS.escape(field)}"]`);
    if (toggle) toggle.focus();
  };
  const sections = (facets || []).filter((facet) => facet.values && facet.values.length).map((facet) => {
    const headingId = `facet-${facet.field.replace(/[^a-z0-9]+/gi, "-")}`;
    let body;
    if (facet.field === "category") body = categoryTree(facet, current, setFilters);
    else if (facet.field === "price") body = priceList(facet, current, setFilters);
    else body = valueList(facet, current, setFilters, facet.field === "attr.color", redraw);
    return el("section", { class: "facet", "aria-labelledby": headingId },
      el("h3", { id: headingId }, facet.name), body);
  });
  container.replaceChildren(...sections);
  if (!sections.length) container.append(el("p", { class: "muted" }, "No filters for these results."));
}

const key = (field, value) => `${field}|${value}`;

function optionButton(field, value, content, pressed, onclick, extra = {}) {
  return el("button", { type: "button", class: "facet-option", "aria-pressed": pressed ? "true" : "false",
    dataset: { facetKey: key(field, value) }, onclick, ...extra }, content);
}

function label(name, count) {
  return [el("span", { class: "name" }, name), el("span", { class: "count" }, String(count))];
}

// Positive value filters on `field` without `value`; a filter left with no values goes.
function withoutValue(filters, field, value) {
  const out = [];
  for (const f of filters) {
    if (f.field !== field || f.negated || f.op === "range" || !(f.values || []).includes(value)) {
      out.push(f);
      continue;
    }
    const values = f.values.filter((v) => v !== value);
    if (values.length) out.push({ ...f, values });
  }
  return out;
}

function hasValue(filters, field, value) {
  return filters.some((f) => f.field === field && !f.negated && (f.values || []).includes(value));
}

// Attribute values: disjunctive, so a click adds a value next to the others on the field (the API ORs
// values of one field) or takes it away.
function valueList(facet, filters, setFilters, swatches, redraw) {
  const open = expanded.has(facet.field);
  const values = open ? facet.values : facet.values.slice(0, SHORT_LIST);
  const items = values.map((v) => {
    const selected = v.selected || hasValue(filters, facet.field, v.value);
    const onclick = () => setFilters(selected
      ? withoutValue(filters, facet.field, v.value)
      : [...filters, { field: facet.field, op: "in", values: [v.value], negated: false,
        label: `${facet.name}: ${v.name}` }], { facet: key(facet.field, v.value) });
    const content = swatches ? [swatch(v.name), ...label(v.name, v.count)] : label(v.name, v.count);
    return el("li", {}, optionButton(facet.field, v.value, content, selected, onclick,
      { "aria-label": `${facet.name}: ${v.name}, ${v.count} ${v.count === 1 ? "product" : "products"}` }));
  });
  const list = el("ul", { class: swatches ? "facet-values swatches" : "facet-values" }, items);
  if (facet.values.length <= SHORT_LIST) return list;
  const toggle = el("button", { type: "button", class: "link", "aria-expanded": open ? "true" : "false",
    dataset: { facetToggle: facet.field },
    onclick: () => {
      if (open) expanded.delete(facet.field);
      else expanded.add(facet.field);
      redraw(facet.field);
    } }, open ? "Show fewer" : `Show all ${facet.values.length}`);
  return el("div", {}, list, toggle);
}

function swatch(name) {
  const dot = el("span", { class: "swatch", "aria-hidden": "true" });
  const css = name.toLowerCase().replace(/[^a-z]/g, "");
  if (/multi|rainbow|assorted/.test(css)) dot.classList.add("multi");
  else if (/clear|transparent/.test(css)) dot.classList.add("clear");
  else if (css && CSS.supports("color", css)) dot.style.backgroundColor = css;
  else dot.classList.add("unknown");
  return dot;
}

// The category tree: a value's parent is its id less the last "-part" (aa-1-13 is under aa-1). One
// category at a time: a click replaces the category filter, a click on the chosen one takes it away.
function categoryTree(facet, filters, setFilters) {
  const nodes = new Map(facet.values.map((v) => [v.value, { ...v, children: [] }]));
  const roots = [];
  for (const node of nodes.values()) {
    const parent = nodes.get(node.value.split("-").slice(0, -1).join("-"));
    (parent ? parent.children : roots).push(node);
  }
  const chosen = (node) => node.selected || hasValue(filters, "category", node.value);
  const onPath = (node) => chosen(node) || node.children.some(onPath);
  // A long tree shows its top two levels and opens along the chosen category (its path and children).
  const everything = nodes.size <= 12;
  const draw = (list, depth) => el("ul", { class: "tree" }, list.map((node) => {
    const selected = chosen(node);
    const onclick = () => {
      const others = filters.filter((f) => !(f.field === "category" && !f.negated));
      setFilters(selected ? others : [...others, { field: "category", op: "in", values: [node.value], negated: false,
        label: `Category: ${node.name}` }], { facet: key("category", node.value) });
    };
    const open = node.children.length && (everything || depth < 1 || onPath(node));
    return el("li", {}, optionButton("category", node.value, label(node.name, node.count), selected, onclick,
      { "aria-label": `Category: ${node.name}, ${node.count} ${node.count === 1 ? "product" : "products"}` }),
    open ? draw(node.children, depth + 1) : null);
  }));
  return draw(roots, 0);
}

// Price ranges: the API's buckets ("25-50", "-25", "100-"); one range at a time.
function priceList(facet, filters, setFilters) {
  return el("ul", { class: "facet-values" }, facet.values.map((v) => {
    const [low, high] = v.value.split("-").map((x) => (x === "" ? null : Number(x)));
    const current = filters.find((f) => f.field === "price" && f.op === "range" && !f.negated);
    const selected = v.selected || Boolean(current && (current.gte ?? null) === low && (current.lte ?? null) === high);
    const others = filters.filter((f) => !(f.field === "price" && f.op === "range" && !f.negated));
    const onclick = () => setFilters(selected ? others : [...others, { field: "price", op: "range", values: [],
      gte: low, lte: high, negated: false, label: v.name }], { facet: key("price", v.value) });
    return el("li", {}, optionButton("price", v.value, label(v.name, v.count), selected, onclick,
      { "aria-label": `Price: ${v.name}, ${v.count} ${v.count === 1 ? "product" : "products"}` }));
  }));
}
