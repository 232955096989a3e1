// A tiny client of the catalog HTTP API, shared by every page.
//
//   import { api, ApiError, storeFromUrl, showError } from "/static/api.js";
//   const body = await api("GET", `/v1/stores/${store}/search?q=...`, { store });
//   const body = await api("POST", "/v1/stores/demo/search", { store: "demo", json: { q: "hoodie" } });
//   const body = await api("POST", url, { store, form: formData });   // multipart (photos)
//
// JSON in and out; an error response's body {"error": {"code", "message"}} becomes an ApiError whose
// message is the API's own words (showError puts it in front of the user). A network failure becomes an
// ApiError with code "network". When sessionStorage holds a key for the store (`catalog-key:<store>`),
// it goes as `Authorization: Bearer <key>`; pages never hold an admin key of their own.
//
// The merchant's key reaches a page in its URL fragment (`/sell?store=S#key=...`: a browser never sends a
// fragment to the server) or through the key prompt (keyPrompt). Importing this module moves a fragment key
// into this tab's sessionStorage and takes it out of the address bar and the history (replaceState), so
// it is in no URL the server sees, no bookmark, no log line.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

export function storeKey(store) {
  try {
    return store ? sessionStorage.getItem(`catalog-key:${store}`) : null;
  } catch {
    return null; // storage disabled
  }
}

export function setStoreKey(store, key) {
  try {
    if (key) sessionStorage.setItem(`catalog-key:${store}`, key);
    else sessionStorage.removeItem(`catalog-key:${store}`);
  } catch {
    // storage disabled: the key lasts as long as the page does not (the prompt asks again)
  }
}

export function adoptKeyFromFragment(store) {
  if (!location.hash.includes("key=")) return;
  const params = new URLSearchParams(location.hash.slice(1));
  const key = (params.get("key") || "").trim();
  params.delete("key");
  if (key && store) setStoreKey(store, key);
  const rest = params.toString();
  history.replaceState(history.state, "", location.pathname + location.search + (rest ? `#${rest}` : ""));
}

// A 401 or 403 answer: the page needs (another) key for the store.
export const needsKey = (error) => error instanceof ApiError && (error.status === 401 || error.status === 403);

// The key prompt, in `slot` (an element): a password field and a button; `onKey()` runs once a key is kept.
// With a key held already it shows a short line naming the store and a button to forget the key.
export function keyPrompt(slot, store, { reason = "", scopes = "", onKey = () => {} } = {}) {
  if (!slot) return;
  const held = storeKey(store);
  if (held && !reason) {
    slot.replaceChildren(el("p", { class: "muted key-held" }, `Using your API key for store ${store} (this tab only). `,
      el("button", { type: "button", class: "link", onclick: () => { setStoreKey(store, null); keyPrompt(slot, store, { scopes, onKey }); } },
        "Forget key")));
    slot.hidden = false;
    return;
  }
  const input = el("input", { type: "password", id: "api-key", name: "api_key", autocomplete: "off", spellcheck: "false",
    required: true, "aria-describedby": "api-key-hint" });
  const form = el("form", { class: "panel key-form", "aria-labelledby": "key-title" },
    el("h2", { id: "key-title" }, `API key for store ${store}`),
    reason ? el("p", { class: "note error" }, reason) : null,
    el("div", { class: "field" },
      el("label", { for: "api-key" }, "API key"),
      input,
      el("span", { class: "hint", id: "api-key-hint" },
        `The merchant's key${scopes ? ` (scopes ${scopes})` : ""}, from \`catalog keys create\`. It is kept in this tab only.`)),
    el("button", { type: "submit", class: "primary" }, "Use key"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) return;
    setStoreKey(store, key);
    keyPrompt(slot, store, { scopes, onKey });
    onKey();
  });
  slot.replaceChildren(form);
  slot.hidden = false;
  if (reason || !held) input.focus();
}

// An <img> of a store's API photo: a page cannot give an <img> a Bearer header, so when the plain load fails
// (a store whose search is not public) and a key is held, the photo is fetched with the key instead.
export function keyedImage(img, store, onFail = () => {}) {
  img.addEventListener("error", async () => {
    const key = storeKey(store);
    const src = img.getAttribute("src") || "";
    if (!key || img.dataset.keyed || !src.startsWith("/v1/")) return onFail(img);
    img.dataset.keyed = "1";
    try {
      const response = await fetch(src, { headers: { Authorization: `Bearer ${key}` } });
      if (!response.ok) return onFail(img);
      img.src = URL.createObjectURL(await response.blob());
    } catch {
      onFail(img);
    }
  });
  return img;
}

export async function api(method, path, { store = null, json = undefined, form = undefined, signal } = {}) {
  const headers = { Accept: "application/json" };
  const key = storeKey(store);
  if (key) headers.Authorization = `Bearer ${key}`;
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form; // the browser sets the multipart boundary
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body, signal });
  } catch (err) {
    if (err && err.name === "AbortError") throw err;
    throw new ApiError(0, "network", "The server could not be reached. Check that `catalog serve` is running.");
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = data && data.error ? data.error : {};
    throw new ApiError(response.status, error.code || `http_${response.status}`,
      error.message || `The server answered ${response.status} ${response.statusText}.`);
  }
  return data;
}

// The store a page works on: ?store=S, else "demo".
export function storeFromUrl(fallback = "demo") {
  const store = new URLSearchParams(location.search).get("store");
  return store && /^[a-z0-9][a-z0-9_-]{0,63}$/.test(store) ? store : fallback;
}

adoptKeyFromFragment(storeFromUrl());

// The page links in the header (a[data-keep-store]) carry the store the page works on; "demo" is the default.
export function keepStoreInLinks(store) {
  for (const link of document.querySelectorAll("a[data-keep-store]")) {
    const url = new URL(link.getAttribute("href"), location.origin);
    if (store === "demo") url.searchParams.delete("store");
    else url.searchParams.set("store", store);
    link.setAttribute("href", url.pathname + url.search);
  }
}

// Show an API error (or any error) in an element with role="alert"; pass null to clear it.
export function showError(element, error) {
  if (!element) return;
  if (!error) {
    element.hidden = true;
    element.textContent = "";
    return;
  }
  const message = error instanceof ApiError ? error.message : String(error && error.message || error);
  element.textContent = message;
  element.hidden = false;
}

// document.createElement with attributes and children: el("a", { href: "/", class: "x" }, "text", child).
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else if (name === "dataset") Object.assign(node.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") node.addEventListener(name.slice(2), value);
    else if (value === true) node.setAttribute(name, "");
    else node.setAttribute(name, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// Money as the shopper reads it: "$39.00"; null when there is no price.
export function formatPrice(price, currency = "USD") {
  if (price === null || price === undefined) return null;
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency: currency || "USD" }).format(price);
  } catch {
    return `${Number(price).toFixed(2)} ${currency || ""}`.trim();
  }
}
