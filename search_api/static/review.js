// The review queue page (/review?store=S): a client of GET /v1/stores/{store}/review and
// POST /v1/stores/{store}/review/decisions. One state object (store, attribute, min confidence, page),
// kept in the URL; every part of the page is drawn from the one queue response.

import { api, el, keepStoreInLinks, keyedImage, keyPrompt, needsKey, showError, storeFromUrl, storeKey } from "/static/api.js";

const LIMIT = 20;
const $ = (id) => document.getElementById(id);

const state = readUrl();
let current = null; // the last queue response
let busy = false;

function readUrl() {
  const params = new URLSearchParams(location.search);
  const confidence = Number(params.get("min_confidence"));
  const offset = Number(params.get("offset"));
  return {
    store: storeFromUrl(),
    attribute: params.get("attribute") || "",
    minConfidence: Number.isFinite(confidence) && confidence >= 0 && confidence <= 1 ? confidence : 0,
    offset: Number.isInteger(offset) && offset > 0 ? offset : 0,
  };
}

function writeUrl(push) {
  const params = new URLSearchParams({ store: state.store });
  if (state.attribute) params.set("attribute", state.attribute);
  if (state.minConfidence > 0) params.set("min_confidence", String(state.minConfidence));
  if (state.offset > 0) params.set("offset", String(state.offset));
  const url = `${location.pathname}?${params}`;
  if (push) history.pushState(null, "", url);
  else history.replaceState(null, "", url);
}

const base = () => `/v1/stores/${encodeURIComponent(state.store)}/review`;
const percent = (x) => `${Math.round(x * 100)}%`;
const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

async function load({ focus = null } = {}) {
  const params = new URLSearchParams({ limit: String(LIMIT), offset: String(state.offset) });
  if (state.attribute) params.set("attribute", state.attribute);
  if (state.minConfidence > 0) params.set("min_confidence", String(state.minConfidence));
  $("proposals").setAttribute("aria-busy", "true");
  $("status").textContent = "Loading proposals…";
  try {
    current = await api("GET", `${base()}?${params}`, { store: state.store });
    showError($("error"), null);
    // A page past the end (after decisions emptied it): go back to the last page that has proposals.
    if (current.proposals.length === 0 && current.total > 0 && state.offset > 0) {
      state.offset = Math.max(0, Math.floor((current.total - 1) / LIMIT) * LIMIT);
      writeUrl(false);
      return load({ focus });
    }
    render();
  } catch (error) {
    current = null;
    fail(error);
    $("status").textContent = "";
    $("groups").replaceChildren();
    $("proposals").replaceChildren();
    $("pager").hidden = true;
    $("empty").hidden = true;
  } finally {
    $("proposals").setAttribute("aria-busy", "false");
  }
  if (focus) focus.focus();
}

// ------------------------------------------------------------------------------------------ drawing
function render() {
  renderFilters();
  renderGroups();
  renderProposals();
  renderPager();
  const total = current.groups.reduce((n, g) => n + g.count, 0);
  const shown = state.attribute ? ` (${plural(current.total, "proposal")} of ${groupName(state.attribute)})` : "";
  $("status").textContent = total
    ? `${plural(total, "proposal")} in ${plural(current.groups.length, "group")}${shown}.`
    : "";
}

function groupName(attribute) {
  const group = current && current.groups.find((g) => g.attribute === attribute);
  return group ? group.name : attribute;
}

function renderFilters() {
  const select = $("attribute");
  const options = [el("option", { value: "" }, "All attributes")];
  for (const group of current.groups) {
    options.push(el("option", { value: group.attribute }, `${group.name} (${group.count})`));
  }
  if (state.attribute && !current.groups.some((g) => g.attribute === state.attribute)) {
    options.push(el("option", { value: state.attribute }, `${state.attribute} (0)`));
  }
  select.replaceChildren(...options);
  select.value = state.attribute;
  $("min-confidence").value = String(Math.round(state.minConfidence * 100));
}

function groupButtons(decisionLabel, group, value) {
  const what = value ? `${group.name}: ${value.name}` : group.name;
  const count = value ? value.count : group.count;
  const body = { attribute: group.attribute, min_confidence: state.minConfidence };
  if (value) body.value = value.value;
  return el("div", { class: "group-actions" },
    el("button", {
      type: "button", class: "accept",
      "aria-label": `Accept all ${count} proposals of ${what}`,
      onclick: (event) => decide("accept", body, { count, what, group: true, trigger: event.currentTarget }),
    }, `Accept all ${count}`),
    el("button", {
      type: "button", class: "reject",
      "aria-label": `Reject all ${count} proposals of ${what}`,
      onclick: (event) => decide("reject", body, { count, what, group: true, trigger: event.currentTarget }),
    }, `Reject all ${count}`));
}

function renderGroups() {
  const items = current.groups.map((group) => {
    const values = group.values.map((value) => el("li", { class: "value-row" },
      el("span", { class: "value-name" }, value.name, " ", el("span", { class: "count" }, `(${value.count})`)),
      groupButtons("value", group, value)));
    const selected = group.attribute === state.attribute;
    return el("li", { class: `group${selected ? " selected" : ""}`, dataset: { attribute: group.attribute } },
      el("div", { class: "group-head" },
        el("button", {
          type: "button", class: "link group-filter", "aria-pressed": selected ? "true" : "false",
          "aria-label": `Show only ${group.name} (${group.count})`,
          onclick: () => setFilters({ attribute: selected ? "" : group.attribute }, true),
        }, group.name),
        el("span", { class: "count-badge", "aria-hidden": "true" }, String(group.count))),
      groupButtons("group", group, null),
      el("details", { class: "values" },
        el("summary", {}, `By value (${group.values.length})`),
        el("ul", { class: "value-list" }, values)));
  });
  $("groups").replaceChildren(...items);
  $("groups-panel").hidden = items.length === 0;
  $("groups-count").textContent = `(${items.length})`;
}

function markedTitle(proposal) {
  // The title with the words that are evidence marked (spans index into the plain-text title).
  const spans = proposal.evidence.words.filter((w) => w.field === "title").sort((a, b) => a.start - b.start);
  const out = [];
  let at = 0;
  for (const span of spans) {
    if (span.start < at) continue;
    out.push(proposal.title.slice(at, span.start), el("mark", {}, proposal.title.slice(span.start, span.end)));
    at = span.end;
  }
  out.push(proposal.title.slice(at));
  return out;
}

function evidenceText(proposal) {
  const ev = proposal.evidence;
  const parts = [];
  const byField = {};
  for (const w of ev.words) (byField[w.field] ||= []).push(`“${w.text}”`);
  for (const [field, words] of Object.entries(byField)) {
    const name = field === "title" ? "Title" : field === "tags" ? "Tags" : "Description";
    parts.push(`${name} says ${[...new Set(words)].join(", ")}`);
  }
  const photos = ev.images.map((i) => i + 1);
  if (photos.length && (ev.source === "image" || ev.source === "model")) {
    const which = `${photos.length === 1 ? "photo" : "photos"} ${photos.join(", ")}`;
    parts.push(ev.source === "image" ? `Read from ${which}` : `${parts.length ? "with" : "From"} ${which}`);
  }
  if (!parts.length) parts.push(ev.source === "model" ? "From the title and photos" : "From the listing text");
  return parts.join(" · ");
}

function valueName(proposal) {
  // A category: its own name, with the path above it in small print.
  if (proposal.attribute !== "category") return el("strong", {}, proposal.value_name);
  const path = proposal.value_name.split(" > ");
  const name = path.pop();
  return el("span", { class: "category-name" },
    path.length ? el("span", { class: "path muted" }, `${path.join(" › ")} ›`) : null, el("strong", {}, name));
}

function proposalCard(proposal) {
  const label = `${proposal.attribute_name} ${proposal.value_name} for ${proposal.title || proposal.product_id}`;
  const current = proposal.current.length
    ? proposal.current.map((c) => c.name).join(", ") + (proposal.attribute === "category" && proposal.current[0].value === null ? " (your own name, not a taxonomy category)" : "")
    : "none";
  const photo = proposal.image_url
    ? keyedImage(el("img", { src: proposal.image_url, alt: "", width: 88, height: 88, loading: "lazy", decoding: "async" }), state.store)
    : el("div", { class: "no-photo", "aria-hidden": "true" }, "No photo");
  const body = { product_id: proposal.product_id, attribute: proposal.attribute, value: proposal.value,
    content_hash: proposal.content_hash };
  return el("li", { class: `proposal ${proposal.kind}`, dataset: { productId: proposal.product_id, attribute: proposal.attribute, value: proposal.value } },
    el("div", { class: "thumb" }, photo),
    el("div", { class: "details" },
      el("h4", { class: "product-title" }, markedTitle(proposal), el("span", { class: "muted pid" }, ` · ${proposal.product_id}`)),
      el("dl", { class: "facts" },
        el("div", {}, el("dt", {}, "Proposed"), el("dd", {}, valueName(proposal),
          " ", el("span", { class: `kind ${proposal.kind}` }, proposal.kind === "adds" ? "adds" : "contradicts yours: accepting replaces it"))),
        el("div", {}, el("dt", {}, "Yours"), el("dd", {}, current)),
        el("div", {}, el("dt", {}, "Confidence"), el("dd", {}, el("meter", { min: 0, max: 1, value: proposal.confidence, "aria-hidden": "true" }), " ", percent(proposal.confidence),
          proposal.precision !== null && proposal.precision !== undefined
            ? el("span", { class: "muted sure", title: "how often the store's trained answers like this one were right" }, ` · ~${Math.round(proposal.precision * 100)}% sure`) : null)),
        el("div", {}, el("dt", {}, "Evidence"), el("dd", {}, evidenceText(proposal))))),
    el("div", { class: "actions" },
      el("button", { type: "button", class: "primary accept", "aria-label": `Accept ${label}`,
        onclick: (event) => decide("accept", body, { count: 1, what: label, trigger: event.currentTarget }) }, "Accept"),
      el("button", { type: "button", class: "reject", "aria-label": `Reject ${label}`,
        onclick: (event) => decide("reject", body, { count: 1, what: label, trigger: event.currentTarget }) }, "Reject")));
}

function renderProposals() {
  const sections = [];
  let list = null;
  let attribute = null;
  for (const proposal of current.proposals) {
    if (proposal.attribute !== attribute) {
      attribute = proposal.attribute;
      const group = current.groups.find((g) => g.attribute === attribute);
      list = el("ul", { class: "proposal-list" });
      const id = `group-${attribute}`;
      sections.push(el("section", { class: "proposal-group", "aria-labelledby": id },
        el("h3", { id }, `${proposal.attribute_name} `, el("span", { class: "muted" }, `(${group ? group.count : ""})`)),
        list));
    }
    list.append(proposalCard(proposal));
  }
  $("proposals").replaceChildren(...sections);
  const empty = $("empty");
  empty.hidden = current.proposals.length > 0;
  empty.textContent = state.attribute || state.minConfidence > 0
    ? "No proposals under these filters. Clear the filters or lower the minimum confidence."
    : "Nothing to review: every product's extraction agrees with your data, or it was decided already.";
}

function renderPager() {
  const pager = $("pager");
  pager.hidden = current.total <= LIMIT;
  const last = Math.min(current.total, state.offset + current.proposals.length);
  $("page-info").textContent = `${state.offset + 1}–${last} of ${current.total}`;
  $("prev").disabled = state.offset === 0;
  $("next").disabled = state.offset + LIMIT >= current.total;
}

// ------------------------------------------------------------------------------------------ actions
async function decide(decision, body, { count, what, group = false, trigger }) {
  if (busy) return;
  const verb = decision === "accept" ? "Accept" : "Reject";
  if (group && count > 1 && !window.confirm(`${verb} all ${count} proposals of ${what}?`)) return;
  busy = true;
  document.querySelectorAll("button.accept, button.reject").forEach((b) => { b.disabled = true; });
  try {
    const result = await api("POST", `${base()}/decisions`, { store: state.store, json: { decision, ...body } });
    showError($("error"), null);
    const n = plural(result.decided, "proposal");
    const products = plural(result.products.length, "product");
    const message = decision === "accept"
      ? `Accepted ${n} of ${what} on ${products}: now your product data, being indexed.`
      : `Rejected ${n} of ${what}: not proposed again for these products as they are.`;
    await load();
    $("status").textContent = `${message} ${$("status").textContent}`;
    $("status").focus();
  } catch (error) {
    fail(error);
    document.querySelectorAll("button.accept, button.reject").forEach((b) => { b.disabled = false; });
    if (trigger && document.contains(trigger)) trigger.focus();
  } finally {
    busy = false;
  }
}

function setFilters(changes, push) {
  Object.assign(state, changes, { offset: 0 });
  writeUrl(push);
  load();
}

// The queue is the merchant's: it asks for the store's key (write scope), and again when one is refused.
const askKey = (reason = "") => keyPrompt($("key-slot"), state.store, { reason, scopes: "write", onKey: () => load() });

function fail(error) {
  if (needsKey(error)) {
    showError($("error"), null);
    askKey(error.message);
  } else {
    showError($("error"), error);
  }
}

function init() {
  const storeInput = $("store");
  storeInput.value = state.store;
  keepStoreInLinks(state.store);
  $("store-form").addEventListener("submit", (event) => {
    event.preventDefault();
    if (!storeInput.checkValidity()) {
      storeInput.reportValidity();
      return;
    }
    state.store = storeInput.value;
    askKey();
    if (storeKey(state.store)) setFilters({ attribute: "" }, true);
  });
  $("filters").addEventListener("submit", (event) => {
    event.preventDefault();
    const raw = Number($("min-confidence").value);
    const min = Number.isFinite(raw) ? Math.min(100, Math.max(0, raw)) / 100 : 0;
    setFilters({ attribute: $("attribute").value, minConfidence: min }, true);
  });
  $("attribute").addEventListener("change", () => $("filters").requestSubmit());
  $("clear-filters").addEventListener("click", () => setFilters({ attribute: "", minConfidence: 0 }, true));
  $("prev").addEventListener("click", () => {
    state.offset = Math.max(0, state.offset - LIMIT);
    writeUrl(true);
    load({ focus: $("queue") });
  });
  $("next").addEventListener("click", () => {
    state.offset += LIMIT;
    writeUrl(true);
    load({ focus: $("queue") });
  });
  window.addEventListener("popstate", () => {
    Object.assign(state, readUrl());
    storeInput.value = state.store;
    load();
  });
  // The groups are open beside the proposals on a wide screen; on a phone they fold above them.
  const wide = window.matchMedia("(min-width: 960px)");
  const panel = $("groups-panel");
  panel.open = wide.matches;
  wide.addEventListener("change", () => { panel.open = wide.matches; });
  writeUrl(false);
  askKey();
  if (storeKey(state.store)) load();
}

init();
