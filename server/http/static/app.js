// dragoman's web page: the native JSON API (/v1) under a text box. No dependencies.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { names: {}, charLimit: 0, timer: null, sequence: 0, timeoutMs: 500, detected: "" };

function headers() {
  const h = { "Content-Type": "application/json" };
  const key = $("api-key").value.trim();
  if (key) h.Authorization = `Bearer ${key}`;
  return h;
}

async function api(path, body) {
  const init = body === undefined
    ? { headers: headers() }
    : { method: "POST", headers: headers(), body: JSON.stringify(body) };
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    throw new Error(`The server cannot be reached (${err.message}). Is it running?`);
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const message = (data.error && (data.error.message || data.error)) || response.statusText;
    throw new Error(message);
  }
  return data;
}

function showError(message) {
  $("error").textContent = message;
  $("error").hidden = !message;
}

function updateCount() {
  const length = $("source-text").value.length;
  const count = $("char-count");
  count.textContent = `${length.toLocaleString()} / ${state.charLimit.toLocaleString()}`;
  count.style.color = state.charLimit && length > state.charLimit ? "var(--danger)" : "";
}

async function translate(alternatives = 0) {
  const text = $("source-text").value;
  const sequence = ++state.sequence;
  if (!text.trim()) {
    $("target-text").value = "";
    $("detected").textContent = "";
    $("status").textContent = "";
    showError("");
    return;
  }
  $("status").textContent = "Translating…";
  try {
    const body = {
      contents: [text],
      sourceLanguageCode: $("source").value,
      targetLanguageCode: $("target").value,
    };
    if (alternatives) body.options = { numAlternatives: alternatives };
    const data = await api("/v1/translate", body);
    if (sequence !== state.sequence) return; // a newer request is on its way
    const result = data.translations[0];
    $("target-text").value = result.translatedText || "";
    const detected = result.detectedLanguageCode;
    state.detected = detected;
    $("detected").textContent = $("source").value ? "" :
      `Detected: ${state.names[detected] || detected}`;
    $("status").textContent = `Translated by model ${result.model}` +
      (result.cached ? " (from the cache)" : "");
    showAlternatives(alternatives ? result.alternatives || [] : null, result.translatedText);
    showError("");
  } catch (err) {
    if (sequence !== state.sequence) return;
    $("status").textContent = "";
    showError(`Could not translate: ${err.message}`);
  }
}

function showAlternatives(list, best) {
  const box = $("alternative-list");
  box.replaceChildren();
  if (list === null) { box.hidden = true; return; }
  const others = list.map((a) => a.translatedText).filter((t) => t && t !== best);
  if (!others.length) others.push("(no other translation)");
  for (const text of others) {
    const item = document.createElement("li");
    item.textContent = text;
    box.appendChild(item);
  }
  box.hidden = false;
}

function schedule() {
  updateCount();
  clearTimeout(state.timer);
  state.timer = setTimeout(() => translate(), state.timeoutMs);
}

function fillPickers(languages, defaultTarget) {
  for (const lang of languages) {
    state.names[lang.languageCode] = lang.displayName;
    for (const id of ["source", "target"]) {
      const option = document.createElement("option");
      option.value = lang.languageCode;
      option.textContent = `${lang.displayName} (${lang.languageCode})`;
      $(id).appendChild(option);
    }
  }
  if (defaultTarget) $("target").value = defaultTarget;
}

async function start() {
  try {
    const settings = await api("/frontend/settings");
    state.charLimit = settings.charLimit;
    state.timeoutMs = settings.frontendTimeout || 500;
    $("key-row").hidden = !settings.keyRequired;
    $("api-key").value = localStorage.getItem("dragoman-api-key") || "";
    const [languages, models] = await Promise.all([api("/v1/languages"), api("/v1/models")]);
    const model = (models.models || []).find((m) => m.default) || {};
    $("model-name").textContent = model.name ? `model ${model.name}` : "dragoman";
    const langs = languages.languages || [];
    const target = langs.find((l) => l.languageCode === settings.language.target.code) ||
      langs.find((l) => (l.aliases || []).includes(settings.language.target.code));
    fillPickers(langs, target && target.languageCode);
    updateCount();
  } catch (err) {
    showError(`The page could not load the server's languages: ${err.message}`);
  }
}

document.addEventListener("DOMContentLoaded", () => {
  $("translator").addEventListener("submit", (event) => { event.preventDefault(); translate(); });
  $("source-text").addEventListener("input", schedule);
  $("source-text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      translate();
    }
  });
  for (const id of ["source", "target"]) $(id).addEventListener("change", () => translate());
  $("api-key").addEventListener("change", () => {
    localStorage.setItem("dragoman-api-key", $("api-key").value.trim());
    translate();
  });
  $("swap").addEventListener("click", () => {
    const from = $("source").value || state.detected || "";
    if (!from) { showError("Pick a source language (or translate once) before swapping."); return; }
    const translated = $("target-text").value;
    $("source").value = $("target").value;
    $("target").value = from;
    if (translated) $("source-text").value = translated;
    schedule();
  });
  $("copy").addEventListener("click", async () => {
    const text = $("target-text").value;
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      $("target-text").select();
      document.execCommand("copy");
    }
    $("status").textContent = "Copied the translation.";
  });
  $("alternatives").addEventListener("click", () => translate(3));
  document.addEventListener("keydown", (event) => {
    if (event.altKey && event.key.toLowerCase() === "s") { event.preventDefault(); $("swap").click(); }
  });
  start();
});
