// The storefront search page: one state object, synced to the URL, and widgets that all draw from the one
// /v1/stores/{store}/search response (STYLE.md section 5). The page is a client of the API: the API parses
// the shopper's words, merges a conversation, relaxes filters and counts facets; the page shows what it says.
//
// URL state: ?store=S&q=<turn>&q=<turn>...&f=<filter>&f=...&page=N
//   q     the conversation's messages, in order ("black hoodie for men", "under 40");
//   f     the filters, once the shopper edited them or a conversation merged them (see encodeFilter);
//         absent: the API parses q; a single empty f: explicitly no filters;
//   page  1-based.
// A live conversation (the API's session_id) refines with the next message; a URL opened afresh (a shared
// link, a reload, the back button) re-runs its messages with its filters and starts a new session from there.

import { api, el, formatPrice, keepStoreInLinks, keyedImage, keyPrompt, needsKey, showError, storeFromUrl } from "/static/api.js";
import { renderFacets } from "/static/search-facets.js";

const PAGE_SIZE = 24;
const MAX_OFFSET = 10000; // SearchRequest.offset's bound
const EXAMPLES = ["black hoodie for men under 60", "women's yoga pants", "waterproof jacket", "running shorts"];

const $ = (id) => document.getElementById(id);
const dom = {
  storeForm: $("store-form"), store: $("store"), form: $("search-form"), q: $("q"),
  conversation: $("conversation"), turns: $("turns"), startOver: $("start-over"), hint: $("refine-hint"),
  error: $("error"), status: $("status"), loading: $("loading"), relaxed: $("relaxed"),
  applied: $("applied"), chips: $("chips"), clear: $("clear-filters"),
  facetPanel: $("facet-panel"), facets: $("facets"),
  results: $("results"), grid: $("grid"), empty: $("empty"), pager: $("pager"),
  close: $("close"), closeNote: $("close-note"), closeGrid: $("close-grid"),
};

// --- state <-> URL -----------------------------------------------------------------------------------

// A filter in the URL: [!]field=v1,v2~Label, or for a range [!]field=gte..lte~Label.
export function encodeFilter(f) {
  const body = f.op === "range" ? `${f.gte ?? ""}..${f.lte ?? ""}` : (f.values || []).join(",");
  return `${f.negated ? "!" : ""}${f.field}=${body}~${f.label || ""}`;
}

export function decodeFilter(text) {
  const tilde = text.indexOf("~");
  const head = tilde < 0 ? text : text.slice(0, tilde);
  const label = tilde < 0 ? "" : text.slice(tilde + 1);
  const negated = head.startsWith("!");
  const [field, body = ""] = (negated ? head.slice(1) : head).split(/=(.*)/s);
  if (!field) return null;
  if (body.includes("..")) {
    const [low, high] = body.split("..");
    const num = (v) => (v === "" || Number.isNaN(Number(v)) ? null : Number(v));
    return { field, op: "range", values: [], gte: num(low), lte: num(high), negated, label };
  }
  const values = body.split(",").filter(Boolean);
  return values.length ? { field, op: "in", values, negated, label } : null;
}

function readUrl() {
  const params = new URLSearchParams(location.search);
  const raw = params.getAll("f");
  const filters = raw.length ? raw.filter(Boolean).map(decodeFilter).filter(Boolean) : null;
  const page = Math.max(1, Number.parseInt(params.get("page") || "1", 10) || 1);
  return { store: storeFromUrl(), turns: params.getAll("q").filter((t) => t.trim()), filters,
    explicit: filters !== null, page };
}

function urlFor(state) {
  const params = new URLSearchParams();
  if (state.store !== "demo") params.set("store", state.store);
  for (const turn of state.turns) params.append("q", turn);
  if (state.explicit && state.filters) {
    if (state.filters.length) state.filters.forEach((f) => params.append("f", encodeFilter(f)));
    else params.append("f", "");
  }
  if (state.page > 1) params.set("page", String(state.page));
  const query = params.toString();
  return query ? `/?${query}` : "/";
}

// --- the root: one state, one request at a time, every widget drawn from its response ----------------

let state = readUrl();
let live = null; // { url, sessionId }: the API session whose state is the search the URL shows
let inflight = null;

function asSpec(f) {
  const spec = { field: f.field, op: f.op === "range" ? "range" : "in", values: f.values || [],
    negated: Boolean(f.negated), label: f.label || null };
  if (f.op === "range") Object.assign(spec, { gte: f.gte ?? null, lte: f.lte ?? null });
  return spec;
}

// The request for the search `next` describes. Three shapes, each reproducible:
//   a new message of the live conversation: {q: message, session_id} (the API merges it);
//   a search read from the URL, or new filters on a one-message search: {q: the messages, filters}, a
//   fresh request, so a shared link or a reload gives exactly these results;
//   new filters in a longer conversation: {q: "", session_id, filters} (the conversation's words stay).
// A page turn re-sends the request that drew page 1, so pages never overlap (a message that was merged is
// re-sent as its merged state: {q: "", session_id, filters}).
let pageOneBody = null;

function requestFor(next, message, paging, continuing) {
  const explicit = next.explicit && next.filters ? next.filters.map(asSpec) : undefined;
  if (message !== null && continuing) return { q: message, session_id: live.sessionId };
  if (paging && pageOneBody && continuing) {
    return pageOneBody.session_id ? { q: "", session_id: live.sessionId, filters: explicit } : pageOneBody;
  }
  if (message === null && continuing && next.turns.length > 1 && explicit) {
    return { q: "", session_id: live.sessionId, filters: explicit };
  }
  return explicit && message === null ? { q: next.turns.join(" "), filters: explicit } : { q: next.turns.join(" ") };
}

// Run the search `next` describes. `message`: a new message of the live conversation; `paging`: only the
// page changed.
async function run(next, { message = null, paging = false, push = true, focus = null } = {}) {
  const offset = Math.min((next.page - 1) * PAGE_SIZE, MAX_OFFSET);
  const continuing = Boolean(live && live.url === urlFor(state) && live.store === next.store);
  const request = requestFor(next, message, paging, continuing);
  const body = { ...request, limit: PAGE_SIZE, offset };

  if (inflight) inflight.abort();
  const controller = (inflight = new AbortController());
  setLoading(true);
  showError(dom.error, null);
  try {
    const response = await api("POST", `/v1/stores/${encodeURIComponent(next.store)}/search`,
      { store: next.store, json: body, signal: controller.signal });
    if (controller.signal.aborted) return;
    // The filters go into the URL once they are the shopper's own (edited) or a conversation's (merged):
    // a one-message search reads as its message alone, so a reload sends exactly the same request.
    state = { ...next, filters: response.applied_filters.map((f) => ({ ...f })),
      explicit: Boolean(next.explicit || next.turns.length > 1) };
    const url = urlFor(state);
    if (push && url !== location.pathname + location.search) history.pushState(null, "", url);
    else history.replaceState(null, "", url);
    live = { url, sessionId: response.session_id, store: state.store };
    if (!paging) pageOneBody = request;
    if (message !== null) dom.q.value = "";
    render(response);
    restoreFocus(focus);
  } catch (err) {
    if (err && err.name === "AbortError") return;
    if (needsKey(err)) {
      // A store whose search is not public: the shopper's site holds a search key for it.
      keyPrompt($("key-slot"), next.store, { reason: err.message, scopes: "search", onKey: () => run(next, { push: false }) });
      clearResults();
    } else {
      showError(dom.error, err);
    }
    dom.status.textContent = "";
    if (err && err.status === 404) clearResults(); // e.g. an unknown store: nothing of another store stays
  } finally {
    if (inflight === controller) {
      inflight = null;
      setLoading(false);
    }
  }
}

function clearResults() {
  for (const node of [dom.grid, dom.chips, dom.facets, dom.pager, dom.closeGrid]) node.replaceChildren();
  dom.applied.hidden = dom.pager.hidden = dom.empty.hidden = dom.relaxed.hidden = dom.close.hidden = true;
}

function setLoading(on) {
  dom.loading.hidden = !on;
  dom.results.setAttribute("aria-busy", on ? "true" : "false");
  dom.results.classList.toggle("is-loading", on);
}

// --- actions -----------------------------------------------------------------------------------------

function submitMessage(text) {
  const message = text.trim();
  if (!message) return;
  run({ ...state, turns: [...state.turns, message], page: 1 }, { message });
}

function setFilters(filters, focus) {
  run({ ...state, filters, explicit: true, page: 1 }, { focus });
}

function removeFilter(index) {
  const filters = state.filters.filter((_, i) => i !== index);
  setFilters(filters, { chip: index });
}

function goToPage(page) {
  run({ ...state, page }, { paging: true, focus: { results: true } });
}

function startOver() {
  live = null;
  run({ store: state.store, turns: [], filters: null, explicit: false, page: 1 }, { focus: { search: true } });
}

// --- widgets -----------------------------------------------------------------------------------------

function render(response) {
  document.title = state.turns.length ? `${state.turns.join(" → ")} · Search products` : "Search products";
  renderConversation();
  renderStatus(response);
  renderRelaxed(response.relaxed_filters);
  renderChips(state.filters);
  renderFacets(dom.facets, response.facets, state.filters, setFilters);
  renderResults(response.results);
  renderCloseMatches(response.close_matches, response.close_match_filters);
  renderEmpty(response);
  renderPager(response);
  dom.q.placeholder = state.turns.length ? "Refine, e.g. under 40" : "e.g. black hoodie for men under $60";
}

function renderConversation() {
  dom.conversation.hidden = state.turns.length === 0;
  dom.turns.replaceChildren(...state.turns.map((turn, i) =>
    el("li", { class: "turn" }, el("span", { class: "visually-hidden" }, i ? "then: " : "you asked: "), turn)));
}

function renderStatus(response) {
  const total = response.total;
  if (!response.results.length) {
    dom.status.textContent = total ? "No results on this page." : "No results.";
    return;
  }
  const first = (state.page - 1) * PAGE_SIZE + 1;
  const last = first + response.results.length - 1;
  const of = response.total_relation === "gte" ? `at least ${total.toLocaleString()}` : total.toLocaleString();
  dom.status.textContent = `Showing ${first}–${last} of ${of} ${total === 1 ? "product" : "products"}`;
}

function renderRelaxed(relaxed) {
  if (!relaxed || !relaxed.length) {
    dom.relaxed.hidden = true;
    dom.relaxed.textContent = "";
    return;
  }
  const names = relaxed.map((f) => f.label).join(", ");
  dom.relaxed.textContent = `Nothing matched every filter, so these were left out: ${names}.`;
  dom.relaxed.hidden = false;
}

function renderChips(filters) {
  const list = filters || [];
  dom.applied.hidden = list.length === 0;
  dom.chips.replaceChildren(...list.map((f, i) => el("li", {},
    el("button", { type: "button", class: `chip${f.negated ? " negated" : ""}`, "aria-label": `Remove filter: ${f.label}`,
      dataset: { filterIndex: String(i) }, onclick: () => removeFilter(i) },
    el("span", {}, f.label), el("span", { class: "x", "aria-hidden": "true" }, "×")))));
}

function renderResults(results) {
  dom.grid.replaceChildren(...results.map(card));
}

// The API fills the page where the results end with products just outside the filters: shown apart, with
// what they do not match, and never counted in the status line or the pager.
function renderCloseMatches(close, givenUp) {
  const list = close || [];
  dom.close.hidden = list.length === 0;
  dom.closeGrid.replaceChildren(...list.map(card));
  const names = (givenUp || []).map((f) => f.label).join(", ");
  dom.closeNote.textContent = list.length ? `Not everything you asked for: these leave out ${names}.` : "";
}

function card(r) {
  const price = formatPrice(r.price, r.currency);
  const photo = r.image_url
    ? keyedImage(el("img", { src: r.thumbnail_url || r.image_url, alt: "", loading: "lazy", decoding: "async", width: 320, height: 320 }),
      state.store, (img) => img.replaceWith(el("div", { class: "no-photo", "aria-hidden": "true" }, "No photo")))
    : el("div", { class: "no-photo", "aria-hidden": "true" }, "No photo");
  const matched = r.matched_attributes.length
    ? el("ul", { class: "matched", "aria-label": "Matches" },
      r.matched_attributes.map((a) => el("li", { class: "chip muted" }, a.name)))
    : null;
  return el("li", { class: "card", dataset: { productId: r.product_id } },
    el("div", { class: "photo" }, photo),
    el("div", { class: "card-body" },
      el("h3", { class: "title" }, r.title || r.product_id),
      price ? el("p", { class: "price" }, price) : null,
      r.category ? el("p", { class: "category", title: r.category }, r.category.split(" > ").pop()) : null,
      matched));
}

function renderEmpty(response) {
  const nothing = response.results.length === 0;
  dom.empty.hidden = !nothing;
  if (!nothing) return;
  const said = state.turns.join(", then ");
  const tips = [];
  if (state.filters && state.filters.length) tips.push("remove a filter above");
  tips.push("use fewer or more general words", "check the spelling");
  dom.empty.replaceChildren(
    el("h2", {}, said ? `No products match “${said}”${tips.length > 2 ? " with these filters" : ""}`
      : tips.length > 2 ? "No products match these filters" : "No products in this store yet"),
    el("p", {}, `Try to ${tips.join(", ")}, or start from one of these:`),
    el("ul", { class: "examples" }, EXAMPLES.map((example) => el("li", {},
      el("button", { type: "button", onclick: () => {
        live = null;
        run({ store: state.store, turns: [example], filters: null, explicit: false, page: 1 }, { message: example });
      } }, example)))));
}

function renderPager(response) {
  const lastPage = Math.max(1, Math.ceil(Math.min(response.total, MAX_OFFSET + PAGE_SIZE) / PAGE_SIZE));
  const more = response.total_relation === "gte";
  dom.pager.hidden = lastPage <= 1 && state.page <= 1;
  if (dom.pager.hidden) return dom.pager.replaceChildren();
  const page = state.page;
  const button = (label, target, attrs = {}) => el("button", { type: "button", ...attrs,
    onclick: () => goToPage(target) }, label);
  const numbers = [];
  const shown = new Set([1, lastPage, page - 1, page, page + 1].filter((n) => n >= 1 && n <= lastPage));
  let previous = 0;
  for (const n of [...shown].sort((a, b) => a - b)) {
    if (n - previous > 1) numbers.push(el("span", { class: "gap", "aria-hidden": "true" }, "…"));
    numbers.push(n === page
      ? el("span", { class: "current", "aria-current": "page" }, `Page ${n}`)
      : button(String(n), n, { "aria-label": `Page ${n}` }));
    previous = n;
  }
  dom.pager.replaceChildren(
    button("← Previous", page - 1, { disabled: page <= 1, rel: "prev" }),
    el("span", { class: "numbers" }, numbers),
    button(more && page >= lastPage ? "More →" : "Next →", page + 1,
      { disabled: page >= lastPage && !more, rel: "next" }));
}

function restoreFocus(focus) {
  if (!focus) return;
  if (focus.search) return dom.q.focus();
  if (focus.results) {
    dom.status.setAttribute("tabindex", "-1");
    dom.status.focus();
    return;
  }
  if (focus.chip !== undefined) {
    const chips = dom.chips.querySelectorAll("button.chip");
    if (chips.length) chips[Math.min(focus.chip, chips.length - 1)].focus();
    else dom.q.focus();
    return;
  }
  if (focus.facet) {
    const target = dom.facets.querySelector(`[data-facet-key="${CSS.escape(focus.facet)}"]`);
    if (target) target.focus();
  }
}

// --- wiring ------------------------------------------------------------------------------------------

dom.form.addEventListener("submit", (event) => {
  event.preventDefault();
  submitMessage(dom.q.value);
});
dom.startOver.addEventListener("click", startOver);
dom.clear.addEventListener("click", () => setFilters([], { search: true }));
dom.storeForm.addEventListener("submit", (event) => {
  event.preventDefault();
  const store = dom.store.value.trim().toLowerCase();
  if (!dom.store.checkValidity() || !store) return;
  live = null;
  state = { store, turns: [], filters: null, explicit: false, page: 1 };
  history.pushState(null, "", urlFor(state));
  syncStoreLinks();
  run(state, { push: false });
});
window.addEventListener("popstate", () => {
  live = null;
  state = readUrl();
  syncStoreLinks();
  run(state, { push: false });
});

function syncStoreLinks() {
  dom.store.value = state.store;
  keepStoreInLinks(state.store);
}

// The filters are a side column on a wide screen (always open) and a collapsed panel on a phone.
const wide = window.matchMedia("(min-width: 900px)");
dom.facetPanel.open = wide.matches;
wide.addEventListener("change", () => { dom.facetPanel.open = wide.matches; });
syncStoreLinks();
run(state, { push: false });
