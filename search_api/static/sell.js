// The listing assistant (/sell?store=S): photos and a draft title in, suggestions out as the merchant types
// (POST /v1/stores/{store}/suggest, debounced, stale requests aborted); category and attribute chips the
// merchant confirms or changes with pickers limited to the taxonomy (GET /v1/taxonomy/...); save uploads the
// photos (POST .../photos), creates the product (PUT .../products/{id}), records what the merchant did with
// each suggestion (POST .../feedback) and polls the product (GET .../products/{id}) until it is searchable.
// Every decision is the API's; this page only shows it and sends the merchant's choices back.

import { api, ApiError, el, keepStoreInLinks, keyPrompt, needsKey, showError, storeFromUrl, storeKey } from "/static/api.js";

const DEBOUNCE_MS = 400;
const POLL_MS = 1000;
const POLL_LIMIT_MS = 180_000;
const MAX_PHOTOS = 8;
const ACCEPTED_TYPES = ["image/jpeg", "image/png", "image/webp"];
const NOTE_WORDS = { too_small: "too small", blurred: "blurred", duplicate: "duplicate", near_blank: "almost blank",
  unreadable: "unreadable" };

const store = storeFromUrl();
const $ = (id) => document.getElementById(id);

const state = {
  photos: [], // {file, url (blob:), key}
  response: null, // the latest suggest response
  latencyMs: null,
  category: { options: [], suggested: null, chosen: null, touched: false },
  chips: [], // {key, attribute, attributeName, suggested (handle|null), value (handle|""), valueName, confidence, removed}
  categoryAttributes: new Map(), // category id -> Promise of {attributes: [{handle, name, values}]}
  attributeValues: new Map(), // attribute handle -> Promise of {handle, name, values}
  controller: null,
  timer: null,
  generation: 0,
  productIdTouched: false,
  idSuffix: Math.random().toString(36).slice(2, 6),
  chipSeq: 0,
  saving: false,
  pollToken: 0,
};

// ------------------------------------------------------------------ taxonomy lookups (cached)
function categoryAttributes(id) {
  if (!state.categoryAttributes.has(id)) {
    const request = api("GET", `/v1/taxonomy/categories/${encodeURIComponent(id)}/attributes`);
    request.catch(() => state.categoryAttributes.delete(id));
    state.categoryAttributes.set(id, request);
  }
  return state.categoryAttributes.get(id);
}

function attributeValues(handle) {
  if (!state.attributeValues.has(handle)) {
    const request = api("GET", `/v1/taxonomy/attributes/${encodeURIComponent(handle)}`);
    request.catch(() => state.attributeValues.delete(handle));
    state.attributeValues.set(handle, request);
  }
  return state.attributeValues.get(handle);
}

// The values a chip's picker offers: the chosen category's values for that attribute; an attribute the
// category does not list (the extractor may still read it, e.g. a colour) offers its own taxonomy values.
async function allowedFor(handle) {
  const category = state.category.chosen;
  if (category) {
    try {
      const found = (await categoryAttributes(category)).attributes.find((a) => a.handle === handle);
      if (found) return { values: found.values, inCategory: true };
    } catch { /* fall through to the attribute's own values */ }
  }
  return { values: (await attributeValues(handle)).values, inCategory: !category };
}

// ------------------------------------------------------------------ suggestions
function imageUrls() {
  return $("image-urls").value.split(/\s+/).map((u) => u.trim()).filter(Boolean);
}

function scheduleSuggest() {
  clearTimeout(state.timer);
  state.timer = setTimeout(suggest, DEBOUNCE_MS);
}

async function suggest() {
  const urls = imageUrls();
  if (!state.photos.length && !urls.length) {
    setSuggestState("Add a photo (or a photo URL) to get suggestions.");
    return;
  }
  if (state.photos.length + urls.length > MAX_PHOTOS) {
    setSuggestState(`At most ${MAX_PHOTOS} photos (files and URLs together).`, "error");
    return;
  }
  if (state.controller) state.controller.abort(); // a stale request must not overwrite a newer answer
  const controller = state.controller = new AbortController();
  const generation = ++state.generation;
  const form = new FormData();
  for (const photo of state.photos) form.append("images", photo.file, photo.file.name);
  for (const url of urls) form.append("image_urls", url);
  form.append("title", $("title").value);
  form.append("description", $("description").value);
  setSuggestState("Suggesting…", "busy");
  const started = performance.now();
  try {
    const body = await api("POST", `/v1/stores/${store}/suggest`, { store, form, signal: controller.signal });
    if (generation !== state.generation) return;
    state.latencyMs = Math.round(performance.now() - started);
    await applySuggestion(body);
    const server = body.timings_ms && body.timings_ms.total;
    setSuggestState(`Suggested in ${state.latencyMs} ms` + (server ? ` (server ${Math.round(server)} ms)` : ""));
    $("suggestions").dataset.latencyMs = String(state.latencyMs);
  } catch (error) {
    if (error && error.name === "AbortError") return;
    if (generation !== state.generation) return;
    if (needsKey(error)) askKey(error.message);
    setSuggestState("No suggestions: " + (error instanceof ApiError ? error.message : String(error)), "error");
  } finally {
    if (state.controller === controller) state.controller = null;
  }
}

function setSuggestState(text, kind = "") {
  const node = $("suggest-state");
  node.replaceChildren(...(kind === "busy" ? [el("span", { class: "spinner", "aria-hidden": "true" }), " "] : []), text);
  node.className = `suggest-state ${kind === "error" ? "error-text" : "muted"}`;
  $("suggestions").setAttribute("aria-busy", kind === "busy" ? "true" : "false");
}

async function applySuggestion(body) {
  state.response = body;
  $("suggest-empty").hidden = true;
  // Category: the suggestion and its alternatives; the merchant's own pick stays until they change it.
  const options = [];
  for (const guess of [body.category, ...(body.category ? body.category.alternatives : [])]) {
    if (guess && !options.some((o) => o.id === guess.id)) options.push(guess);
  }
  const picked = state.category.touched
    ? state.category.options.find((o) => o.id === state.category.chosen) : null;
  if (picked && !options.some((o) => o.id === picked.id)) options.push({ ...picked, confidence: null });
  state.category.options = options;
  state.category.suggested = body.category ? body.category.id : null;
  if (!state.category.touched) state.category.chosen = state.category.suggested;

  // Attributes: chips the merchant touched stay; untouched ones follow the new suggestion.
  state.chips = state.chips.filter((c) => c.suggested === null || c.value !== c.suggested || c.removed);
  for (const attribute of body.attributes) {
    for (const value of attribute.values) {
      const known = state.chips.some((c) => c.attribute === attribute.handle
        && (c.suggested === value.handle || c.value === value.handle));
      if (known) continue;
      state.chips.push({ key: `chip-${++state.chipSeq}`, attribute: attribute.handle, attributeName: attribute.name,
        suggested: value.handle, suggestedName: value.name, value: value.handle, valueName: value.name,
        confidence: value.confidence, precision: value.precision ?? null, removed: false });
    }
  }
  renderSafety(body);
  renderNotes(body);
  renderCategory();
  await renderAttributes();
}

// ------------------------------------------------------------------ rendering
function renderSafety(body) {
  const box = $("safety");
  if (body.safety && body.safety.flagged) {
    box.replaceChildren(el("strong", {}, "Safety warning: "),
      "this listing may break the marketplace's terms (" + body.safety.reasons.join(", ") + "). " +
      "Check the photos before you save.");
    box.hidden = false;
  } else {
    box.hidden = true;
    box.replaceChildren();
  }
}

function photoLabel(index) {
  const files = state.photos.length;
  if (index < files) return `Photo ${index + 1} (${state.photos[index].file.name})`;
  return `Photo URL ${index - files + 1}`;
}

function renderNotes(body) {
  const list = $("image-notes");
  const items = (body.image_notes || []).map((note) => el("li", { class: "note warn", dataset: { issue: note.issue } },
    el("strong", {}, `${photoLabel(note.image)}: ${NOTE_WORDS[note.issue] || note.issue}`),
    // The API counts photos from 0 ("same as image 0"); the merchant counts them from 1.
    note.detail ? ` — ${note.detail.replace(/\bimage (\d+)\b/g, (_, n) => `photo ${Number(n) + 1}`)}` : ""));
  for (const message of body.errors || []) items.push(el("li", { class: "note" }, message));
  list.replaceChildren(...items);
  list.hidden = !items.length;
}

function percent(confidence) {
  if (confidence === null || confidence === undefined) return "";
  return confidence < 0.005 ? "<1%" : `${Math.round(confidence * 100)}%`;
}

function renderCategory() {
  const box = $("category-box");
  const options = state.category.options;
  box.hidden = !options.length;
  $("category-options").replaceChildren(...options.map((option, i) => {
    const id = `category-${i}`;
    const input = el("input", { type: "radio", name: "category", id, value: option.id,
      checked: option.id === state.category.chosen });
    input.addEventListener("change", () => chooseCategory(option.id));
    const badge = option.id === state.category.suggested ? el("span", { class: "badge" }, "suggested") : null;
    return el("div", { class: "option" }, input,
      el("label", { for: id },
        el("span", { class: "option-name" }, option.name, " ", badge),
        el("span", { class: "hint path" }, option.full_name),
        option.confidence !== null ? el("span", { class: "hint confidence" }, percent(option.confidence)) : null));
  }));
}

async function chooseCategory(id) {
  state.category.chosen = id;
  state.category.touched = true;
  renderCategory();
  await renderAttributes();
}

let categorySearchTimer = null;
let categorySearchController = null;
function searchCategories() {
  clearTimeout(categorySearchTimer);
  categorySearchTimer = setTimeout(async () => {
    const q = $("category-search").value.trim();
    const results = $("category-results");
    if (!q) {
      results.replaceChildren();
      return;
    }
    if (categorySearchController) categorySearchController.abort();
    categorySearchController = new AbortController();
    try {
      const body = await api("GET", `/v1/taxonomy/categories?q=${encodeURIComponent(q)}&limit=8`,
        { signal: categorySearchController.signal });
      results.replaceChildren(...(body.categories.length ? body.categories.map((c) => el("button", {
        type: "button", class: "link category-result",
        "aria-label": `Use category: ${c.full_name}`,
        onclick: () => {
          if (!state.category.options.some((o) => o.id === c.id)) state.category.options.push({ ...c, confidence: null });
          chooseCategory(c.id);
          const chosen = document.querySelector(`input[name="category"][value="${CSS.escape(c.id)}"]`);
          if (chosen) chosen.focus();
        },
      }, c.name, el("span", { class: "hint" }, ` ${c.full_name}`))) : [el("p", { class: "hint" }, "No category matches.")]));
    } catch (error) {
      if (error && error.name === "AbortError") return;
      results.replaceChildren(el("p", { class: "hint" }, String(error.message || error)));
    }
  }, 250);
}

function chipState(chip) {
  if (chip.suggested === null) return "added";
  return chip.value === chip.suggested ? "suggested" : "edited";
}

async function renderAttributes() {
  const visible = state.chips.filter((c) => !c.removed);
  const removed = state.chips.filter((c) => c.removed);
  const groups = new Map();
  for (const chip of visible) {
    if (!groups.has(chip.attribute)) groups.set(chip.attribute, []);
    groups.get(chip.attribute).push(chip);
  }
  const allowed = new Map();
  await Promise.all([...groups.keys()].map(async (handle) => {
    try {
      allowed.set(handle, await allowedFor(handle));
    } catch {
      allowed.set(handle, { values: [], inCategory: false });
    }
  }));
  const container = $("attributes");
  const focusKey = document.activeElement && document.activeElement.dataset
    ? document.activeElement.dataset.chipKey : null;
  container.replaceChildren(...[...groups.entries()].map(([handle, chips]) => {
    const { values, inCategory } = allowed.get(handle);
    const headingId = `attr-${handle}`;
    return el("div", { class: "attr-group", role: "group", "aria-labelledby": headingId, dataset: { attribute: handle } },
      el("span", { class: "attr-name", id: headingId }, chips[0].attributeName,
        inCategory ? null : el("span", { class: "hint" }, " (not an attribute of this category)")),
      el("ul", { class: "chips" }, ...chips.map((chip, i) => chipElement(chip, values, chips.length > 1 ? i + 1 : 0))));
  }));
  if (focusKey) {
    const again = container.querySelector(`[data-chip-key="${focusKey}"]`);
    if (again) again.focus();
  }
  const removedBox = $("removed-box");
  removedBox.hidden = !removed.length;
  $("removed").replaceChildren(...removed.map((chip) => el("li", {},
    el("button", { type: "button", class: "chip muted", "aria-label": `Restore ${chip.attributeName}: ${chip.valueName}`,
      onclick: () => { chip.removed = false; renderAttributes(); } },
    el("s", {}, `${chip.attributeName}: ${chip.valueName}`), el("span", { class: "x", "aria-hidden": "true" }, "↺")))));
  await renderAddAttribute(groups);
  $("attributes-box").hidden = !(visible.length || removed.length || state.category.chosen);
}

function chipElement(chip, values, position) {
  const name = position ? `${chip.attributeName} ${position}` : chip.attributeName;
  const select = el("select", { "aria-label": name, dataset: { chipKey: chip.key, attribute: chip.attribute } });
  if (!chip.value) select.append(el("option", { value: "" }, "Choose a value…"));
  const offered = values.some((v) => v.handle === chip.value) || !chip.value
    ? values : [{ handle: chip.value, name: `${chip.valueName} (not offered here)` }, ...values];
  for (const value of offered) {
    select.append(el("option", { value: value.handle, selected: value.handle === chip.value }, value.name));
  }
  select.addEventListener("change", () => {
    const option = select.selectedOptions[0];
    chip.value = select.value;
    chip.valueName = option ? option.textContent.replace(/ \(not offered here\)$/, "") : "";
    renderAttributes();
  });
  const kind = chipState(chip);
  // A store head's answer says how sure it is: the precision its answers reached on the store's own products.
  const sure = kind === "suggested" && chip.precision !== null && chip.precision !== undefined;
  const marker = sure ? `~${Math.round(chip.precision * 100)}% sure` : kind === "suggested" ? percent(chip.confidence) : kind;
  const markTitle = sure ? "how often this store's trained suggestions like this one were right"
    : kind === "suggested" ? "confidence" : null;
  return el("li", {}, el("span", { class: `chip value-chip ${kind}`, dataset: { state: kind, attribute: chip.attribute } },
    select,
    el("span", { class: "chip-mark", title: markTitle }, marker),
    el("button", { type: "button", class: "chip-remove", "aria-label": `Remove ${chip.attributeName}: ${chip.valueName || "empty"}`,
      onclick: () => removeChip(chip) }, el("span", { "aria-hidden": "true" }, "×"))));
}

function removeChip(chip) {
  if (chip.suggested === null) state.chips = state.chips.filter((c) => c !== chip);
  else {
    chip.removed = true;
    chip.value = chip.suggested; // a rejection is of the suggested value
    chip.valueName = chip.suggestedName || chip.valueName;
  }
  renderAttributes().then(() => $("add-attribute").focus());
}

async function renderAddAttribute(groups) {
  const select = $("add-attribute");
  const category = state.category.chosen;
  let attributes = [];
  if (category) {
    try {
      attributes = (await categoryAttributes(category)).attributes;
    } catch { /* no picker without the category's attributes */ }
  }
  select.replaceChildren(el("option", { value: "" }, attributes.length ? "Choose an attribute…" : "Pick a category first"),
    ...attributes.map((a) => el("option", { value: a.handle }, groups.has(a.handle) ? `${a.name} (another value)` : a.name)));
  select.disabled = !attributes.length;
  select.closest(".field").hidden = !category;
}

function addAttribute() {
  const select = $("add-attribute");
  const handle = select.value;
  if (!handle) return;
  const name = select.selectedOptions[0].textContent.replace(/ \(another value\)$/, "");
  const chip = { key: `chip-${++state.chipSeq}`, attribute: handle, attributeName: name, suggested: null, value: "",
    valueName: "", confidence: null, removed: false };
  state.chips.push(chip);
  renderAttributes().then(() => {
    const added = document.querySelector(`[data-chip-key="${chip.key}"]`);
    if (added) added.focus();
  });
}

// ------------------------------------------------------------------ photos
function addFiles(files) {
  showError($("error"), null);
  const refused = [];
  for (const file of files) {
    if (!ACCEPTED_TYPES.includes(file.type)) {
      refused.push(`${file.name} is not a JPEG, PNG or WebP photo`);
      continue;
    }
    if (state.photos.length >= MAX_PHOTOS) {
      refused.push(`at most ${MAX_PHOTOS} photos`);
      break;
    }
    state.photos.push({ file, url: URL.createObjectURL(file), key: `${file.name}-${file.size}-${Math.random()}` });
  }
  if (refused.length) showError($("error"), new Error(`Not added: ${refused.join("; ")}.`));
  renderThumbs();
  scheduleSuggest();
}

function renderThumbs() {
  $("thumbs").replaceChildren(...state.photos.map((photo, i) => el("li", { class: "thumb" },
    el("img", { src: photo.url, width: 96, height: 96, loading: "lazy", alt: `Photo ${i + 1}: ${photo.file.name}` }),
    el("button", { type: "button", class: "thumb-remove", "aria-label": `Remove photo ${i + 1} (${photo.file.name})`,
      onclick: () => {
        URL.revokeObjectURL(photo.url);
        state.photos.splice(i, 1);
        renderThumbs();
        scheduleSuggest();
        $("photos").focus();
      } }, el("span", { "aria-hidden": "true" }, "×")))));
}

// ------------------------------------------------------------------ saving
function slug(text) {
  return text.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 48);
}

function syncProductId() {
  if (state.productIdTouched) return;
  const base = slug($("title").value);
  $("product-id").value = base ? `${base}-${state.idSuffix}` : "";
}

// Per suggested value, what the merchant did with it.
function decisions() {
  const out = [];
  const category = state.category;
  if (category.suggested) {
    out.push(category.chosen === category.suggested
      ? { attribute: "category", suggested_value: category.suggested, decision: "accepted" }
      : { attribute: "category", suggested_value: category.suggested, decision: "edited", final_value: category.chosen });
  }
  for (const chip of state.chips) {
    if (chip.suggested === null) continue;
    if (chip.removed || !chip.value) out.push({ attribute: chip.attribute, suggested_value: chip.suggested, decision: "rejected" });
    else if (chip.value === chip.suggested) out.push({ attribute: chip.attribute, suggested_value: chip.suggested, decision: "accepted" });
    else out.push({ attribute: chip.attribute, suggested_value: chip.suggested, decision: "edited", final_value: chip.value });
  }
  return out;
}

function productBody(images) {
  const attributes = {};
  for (const chip of state.chips) {
    if (chip.removed || !chip.value) continue;
    (attributes[chip.attribute] ||= []);
    if (!attributes[chip.attribute].includes(chip.valueName)) attributes[chip.attribute].push(chip.valueName);
  }
  const body = { title: $("title").value.trim(), description: $("description").value, images, attributes };
  const price = $("price").value;
  if (price !== "") body.price = Number(price);
  const chosen = state.category.options.find((o) => o.id === state.category.chosen);
  if (chosen) {
    body.merchant_category_id = chosen.id;
    body.merchant_category = chosen.full_name;
  }
  return body;
}

async function save(event) {
  event.preventDefault();
  if (state.saving) return;
  const error = $("error");
  showError(error, null);
  const title = $("title").value.trim();
  if (!title) {
    showError(error, new Error("Give the product a title before saving."));
    $("title").focus();
    return;
  }
  syncProductId();
  const productId = $("product-id").value.trim();
  if (!productId) {
    showError(error, new Error("Give the product an ID before saving."));
    $("product-id").focus();
    return;
  }
  const status = $("save-status");
  state.saving = true;
  $("save").disabled = true;
  const pollToken = ++state.pollToken;
  try {
    let refs = [];
    if (state.photos.length) {
      status.textContent = "Uploading photos…";
      const form = new FormData();
      for (const photo of state.photos) form.append("images", photo.file, photo.file.name);
      refs = (await api("POST", `/v1/stores/${store}/photos`, { store, form })).photos.map((p) => p.ref);
    }
    status.textContent = "Saving…";
    const path = `/v1/stores/${store}/products/${encodeURIComponent(productId)}`;
    await api("PUT", path, { store, json: productBody([...refs, ...imageUrls()]) });
    const savedAt = performance.now();
    state.productIdTouched = true; // saving again updates this product
    $("product-id").readOnly = true;
    const response = state.response;
    const made = decisions();
    if (response && made.length) {
      await api("POST", `/v1/stores/${store}/feedback`, { store, json: { product_id: productId,
        extractor: response.extractor || "unknown", extractor_version: response.extractor_version || "unknown",
        decisions: made } });
    }
    status.textContent = `Saved as ${productId}.`;
    poll(path, productId, title, savedAt, pollToken);
  } catch (err) {
    status.textContent = "";
    if (needsKey(err)) askKey(err.message);
    else showError(error, err);
  } finally {
    state.saving = false;
    $("save").disabled = false;
  }
}

function afterSave(kind, ...children) {
  const note = $("after-save");
  note.className = `note ${kind}`;
  note.replaceChildren(...children);
  note.hidden = false;
}

async function poll(path, productId, title, savedAt, token) {
  const searchLink = () => el("a", { href: `/?store=${encodeURIComponent(store)}&q=${encodeURIComponent(title)}` },
    "Find it in the storefront");
  afterSave("", el("span", { class: "spinner", "aria-hidden": "true" }), " Saved. Waiting for the index…");
  let searchableAt = null;
  while (token === state.pollToken && performance.now() - savedAt < POLL_LIMIT_MS) {
    let body;
    try {
      body = await api("GET", path, { store });
    } catch (err) {
      afterSave("error", `Saved, but its state could not be read: ${err.message}`);
      return;
    }
    if (token !== state.pollToken) return;
    const seconds = () => ((performance.now() - savedAt) / 1000).toFixed(1);
    if (body.error) {
      afterSave("error", `Saved, but reading it failed: ${body.error}. It is searchable by its title. `, searchLink());
      return;
    }
    if (body.index.indexed && searchableAt === null) searchableAt = seconds();
    if (body.index.indexed && body.extraction) {
      const category = body.extraction.category ? ` as ${body.extraction.category.name}` : "";
      const section = $("after-save");
      section.dataset.searchable = "true";
      afterSave("ok", el("strong", {}, "Searchable. "),
        `${productId} was in the index ${searchableAt} s after saving, with its photos read${category}. `, searchLink());
      return;
    }
    if (searchableAt !== null) {
      afterSave("", el("span", { class: "spinner", "aria-hidden": "true" }),
        ` In the index with your data ${searchableAt} s after saving; reading its photos…`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  if (token === state.pollToken) {
    afterSave("warn", "Saved. The index has not applied it yet: is `catalog serve` running its index sync? ", searchLink());
  }
}

// ------------------------------------------------------------------ acceptance so far (and: is the store known?)
async function showAcceptance() {
  try {
    const report = await api("GET", `/v1/stores/${store}/feedback/acceptance`, { store });
    const category = report.category;
    if (category.decisions) {
      $("acceptance").textContent = `Merchants of this store kept ${percent(category.acceptance)} of suggested ` +
        `categories (${category.decisions} listings).`;
      $("acceptance").hidden = false;
    }
  } catch (err) {
    if (needsKey(err)) askKey(err.message);
    else showError($("error"), err);
  }
}

// The listing assistant is the merchant's: it asks for the store's key (suggest and write scopes), and
// again when one is refused; with a key, what was waiting on it runs.
function askKey(reason = "") {
  keyPrompt($("key-slot"), store, { reason, scopes: "suggest, write", onKey: () => {
    showAcceptance();
    scheduleSuggest();
  } });
}

// ------------------------------------------------------------------ wiring
function init() {
  keepStoreInLinks(store);
  $("store").value = store;
  $("store-name").textContent = store;
  document.title = `List a product in ${store} · Catalog intelligence`;
  $("store-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const value = $("store").value.trim();
    if (/^[a-z0-9][a-z0-9_-]{0,63}$/.test(value)) location.search = `?store=${encodeURIComponent(value)}`;
    else showError($("error"), new Error("A store name is lowercase letters, digits, '-' or '_'."));
  });
  const input = $("photos");
  input.addEventListener("change", () => {
    addFiles([...input.files]);
    input.value = "";
  });
  const zone = $("dropzone");
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    addFiles([...event.dataTransfer.files]);
  });
  $("title").addEventListener("input", () => {
    syncProductId();
    scheduleSuggest();
  });
  $("description").addEventListener("input", scheduleSuggest);
  $("image-urls").addEventListener("input", scheduleSuggest);
  $("product-id").addEventListener("input", () => { state.productIdTouched = true; });
  $("category-search").addEventListener("input", searchCategories);
  $("add-attribute").addEventListener("change", addAttribute);
  $("listing").addEventListener("submit", save);
  askKey();
  if (storeKey(store)) showAcceptance();
}

init();
