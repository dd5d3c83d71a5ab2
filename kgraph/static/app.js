// kgraph query page: YASGUI (vendored in /static/yasgui, no CDN) on this server's /sparql, with
// kgraph's prefixes predeclared (from /queries), the named queries as examples (one click opens a
// tab), a history of the queries run here, and downloads of the active tab's answer as CSV, TSV or
// JSON. Talks only to this server: YASGUI's web look-ups (prefix.cc, LOV) are switched off.
"use strict";

const HISTORY_KEY = "kgraph.history";
const HISTORY_MAX = 50;
const ENDPOINT = new URL("/sparql", window.location.href).href;
const FIRST_QUERY = "SELECT ?diagnosis ?role ?line WHERE {\n" +
  "  ?a rdf:subject ?diagnosis ; rdf:predicate kg:supports ; rdf:object CPT:74360 ;\n" +
  "     kg:role ?role ; kg:line ?line .\n}\nORDER BY ?line\n";
const $ = (id) => document.getElementById(id);
window.kgraph = { ready: false, lastRows: null, yasgui: null };

function status(message) {
  $("status").textContent = message;
}

/** PREFIX lines for the prefixes ``text`` uses (the server knows them anyway; the editor wants them). */
function withPrefixes(prefixes, text) {
  const used = Object.keys(prefixes).filter((p) => new RegExp("(^|[^\\w<:])" + p + ":").test(text));
  return used.map((p) => `PREFIX ${p}: <${prefixes[p]}>`).join("\n") + "\n" + text;
}

function history() {
  try {
    return JSON.parse(window.localStorage.getItem(HISTORY_KEY) || "[]");
  } catch {
    return [];
  }
}

function remember(text) {
  const past = history().filter((q) => q !== text);
  past.unshift(text);
  window.localStorage.setItem(HISTORY_KEY, JSON.stringify(past.slice(0, HISTORY_MAX)));
  showHistory();
}

function showHistory() {
  const list = $("history");
  list.replaceChildren(...history().map((text) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "link";
    button.title = text;
    button.textContent = text.replace(/^(PREFIX[^\n]*\n|#[^\n]*\n)*/i, "").replace(/\s+/g, " ").slice(0, 80);
    button.addEventListener("click", () => openTab("history", text));
    item.append(button);
    return item;
  }));
}

function openTab(name, text) {
  const yasgui = window.kgraph.yasgui;
  const tab = yasgui.addTab(true, { name, yasqe: { value: text }, requestConfig: { endpoint: ENDPOINT } });
  return tab;
}

function showNamed(queries) {
  $("named").replaceChildren(...queries.map((q) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "link";
    button.dataset.name = q.name;
    button.textContent = q.name;
    button.title = q.description;
    button.addEventListener("click", () => openTab(q.name, q.example_text));
    const about = document.createElement("p");
    about.textContent = q.description;
    item.append(button, about);
    const params = Object.entries(q.params);
    if (params.length) {
      const list = document.createElement("dl");
      for (const [param, help] of params) {
        const dt = document.createElement("dt");
        dt.textContent = "?" + param;
        const dd = document.createElement("dd");
        dd.textContent = help;
        list.append(dt, dd);
      }
      item.append(list);
    }
    return item;
  }));
}

async function download(format) {
  const tab = window.kgraph.yasgui.getTab();
  const body = new URLSearchParams({ query: tab.getQuery(), format });
  const response = await fetch(ENDPOINT, { method: "POST", body });
  if (!response.ok) {
    status(`download as ${format.toUpperCase()}: ${response.status} ${await response.text()}`);
    return;
  }
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await response.blob());
  link.download = `${tab.getName().replace(/[^\w-]+/g, "_") || "results"}.${format}`;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

async function start() {
  const Yasgui = window.Yasgui;
  let named;
  try {
    const response = await fetch("/queries");
    named = await response.json();
  } catch (error) {
    status(`cannot read /queries: ${error}`);
    return;
  }
  const prefixes = Object.fromEntries(named.prefixes ? Object.entries(named.prefixes) : []);
  // variables complete offline, prefixes from kgraph's own list; the class and property completers
  // ask a web service (Linked Open Vocabularies), so they are left out
  Yasgui.Yasqe.forkAutocompleter("prefixes", {
    name: "kgraphPrefixes", persistenceId: null,
    get: () => Object.entries(prefixes).map(([p, iri]) => `${p}: <${iri}>`),
  }, false);
  const completers = ["variables", "kgraphPrefixes"];
  Yasgui.Yasqe.defaults.autocompleters = completers;
  const yasgui = new Yasgui($("yasgui"), {
    requestConfig: { endpoint: ENDPOINT, method: "POST" },
    copyEndpointOnNewTab: false,
    endpointCatalogueOptions: { getData: () => [{ endpoint: ENDPOINT }], keys: [] },
    persistenceId: "kgraph",
    yasqe: { value: withPrefixes(prefixes, FIRST_QUERY), prefixCcApi: null, autocompleters: completers,
             resizeable: true, editorHeight: "280px" },
    yasr: { prefixes },
  });
  window.kgraph.yasgui = yasgui;
  yasgui.on("query", (_y, tab) => remember(tab.getQuery()));
  // a tab tells of its answer before it gives it to its result view: count once the view has it
  yasgui.on("queryResponse", (_y, tab) => setTimeout(() => {
    const results = tab.getYasr().results;
    const bindings = results && !results.hasError() && results.getBindings ? results.getBindings() : null;
    window.kgraph.lastRows = bindings ? bindings.length : -1;
  }, 0));
  showNamed(named.queries);
  showHistory();
  for (const button of $("downloads").querySelectorAll("button")) {
    button.addEventListener("click", () => download(button.dataset.format));
  }
  status(`${named.queries.length} named queries · endpoint ${ENDPOINT}`);
  window.kgraph.ready = true;
}

document.addEventListener("DOMContentLoaded", start);
