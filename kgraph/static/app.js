// kgraph query page: named queries with a form per parameter, a SPARQL editor, results as a table,
// download as CSV. Talks only to this server (/queries, /sparql); no external resources.
"use strict";

const SHOWN_ROWS = 5000;
const state = { prefixes: [], queries: {}, last: null };
const $ = (id) => document.getElementById(id);
window.kgraph = { ready: false, lastRows: 0 };

function curie(iri) {
  for (const [prefix, ns] of state.prefixes) {
    if (iri.startsWith(ns) && iri.length > ns.length) return prefix + ":" + iri.slice(ns.length);
  }
  return iri;
}

function cell(binding) {
  const td = document.createElement("td");
  if (!binding) return td;
  if (binding.type === "uri") {
    td.className = "iri";
    td.textContent = curie(binding.value);
    td.title = binding.value;
  } else if (binding.type === "bnode") {
    td.className = "bnode";
    td.textContent = "_:" + binding.value;
  } else {
    td.textContent = binding.value;
    const dt = binding.datatype ? curie(binding.datatype) : binding["xml:lang"] ? "@" + binding["xml:lang"] : "";
    if (dt) td.title = dt;
  }
  return td;
}

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

function renderTable(data) {
  const results = $("results");
  results.replaceChildren();
  if ("boolean" in data) {
    const p = document.createElement("p");
    p.id = "boolean";
    p.textContent = "ASK: " + data.boolean;
    results.append(p);
    return 1;
  }
  const vars = data.head.vars || [];
  const rows = data.results.bindings;
  const table = document.createElement("table");
  const head = table.createTHead().insertRow();
  for (const v of vars) {
    const th = document.createElement("th");
    th.textContent = v;
    head.append(th);
  }
  const body = table.createTBody();
  for (const row of rows.slice(0, SHOWN_ROWS)) {
    const tr = body.insertRow();
    for (const v of vars) tr.append(cell(row[v]));
  }
  results.append(table);
  if (rows.length > SHOWN_ROWS) {
    const note = document.createElement("p");
    note.textContent = `showing the first ${SHOWN_ROWS} of ${rows.length} rows; download the CSV for all of them`;
    results.append(note);
  }
  return rows.length;
}

async function run(request) {
  showError("");
  $("download").disabled = true;
  $("timing").textContent = "running…";
  const started = performance.now();
  const init = { method: request.method, headers: { Accept: "application/sparql-results+json, application/n-triples;q=0.9" } };
  if (request.body) {
    init.body = request.body;
    init.headers["Content-Type"] = "application/x-www-form-urlencoded";
  }
  let response;
  try {
    response = await fetch(request.url, init);
  } catch (err) {
    $("timing").textContent = "";
    showError("the server did not answer: " + err);
    return;
  }
  const ms = Math.round(performance.now() - started);
  const type = (response.headers.get("Content-Type") || "").split(";")[0];
  if (!response.ok) {
    $("timing").textContent = `HTTP ${response.status} after ${ms} ms`;
    $("results").replaceChildren();
    showError(await response.text());
    return;
  }
  let rows;
  if (type.endsWith("json")) {
    rows = renderTable(await response.json());
    state.last = request;
    $("download").disabled = false;
  } else {
    const pre = document.createElement("pre");
    pre.className = "graph";
    pre.textContent = await response.text();
    $("results").replaceChildren(pre);
    rows = pre.textContent.split("\n").filter((l) => l.trim()).length;
  }
  window.kgraph.lastRows = rows;
  $("timing").textContent = `${rows} row${rows === 1 ? "" : "s"} in ${ms} ms`;
}

function runEditor() {
  const body = new URLSearchParams({ query: $("editor").value });
  run({ method: "POST", url: "/sparql", body: body.toString() });
}

function runNamed(event) {
  event.preventDefault();
  const name = $("named").value;
  const params = new URLSearchParams();
  for (const input of $("param-fields").querySelectorAll("input")) params.append(input.name, input.value.trim());
  const query = params.toString();
  run({ method: "GET", url: "/queries/" + encodeURIComponent(name) + (query ? "?" + query : "") });
}

async function download() {
  const request = state.last;
  if (!request) return;
  const init = { method: request.method, headers: { Accept: "text/csv" } };
  if (request.body) {
    init.body = request.body;
    init.headers["Content-Type"] = "application/x-www-form-urlencoded";
  }
  const response = await fetch(request.url, init);
  if (!response.ok) {
    showError(await response.text());
    return;
  }
  const blob = await response.blob();
  const link = document.createElement("a");
  link.href = URL.createObjectURL(blob);
  link.download = "results.csv";
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

function exampleValues(example) {
  // "kgraph query --name x -p code=CPT:74360 -p date=2024-08-01" -> {code: "CPT:74360", date: "2024-08-01"}
  const values = {};
  for (const m of (example || "").matchAll(/-p\s+(\w+)=(\S+)/g)) values[m[1]] = m[2];
  return values;
}

function chooseNamed() {
  const q = state.queries[$("named").value];
  if (!q) return;
  $("params").hidden = false;
  $("named-description").textContent = q.description;
  const fields = $("param-fields");
  fields.replaceChildren();
  const examples = exampleValues(q.example);
  for (const [name, help] of Object.entries(q.params)) {
    const label = document.createElement("label");
    label.htmlFor = "param-" + name;
    label.textContent = name;
    const hint = document.createElement("span");
    hint.className = "help";
    hint.textContent = help;
    const input = document.createElement("input");
    input.id = "param-" + name;
    input.name = name;
    input.required = true;
    input.value = examples[name] || "";
    fields.append(label, hint, input);
  }
}

async function init() {
  $("run").addEventListener("click", runEditor);
  $("download").addEventListener("click", download);
  $("params").addEventListener("submit", runNamed);
  $("named").addEventListener("change", chooseNamed);
  $("edit-named").addEventListener("click", () => {
    const q = state.queries[$("named").value];
    if (q) $("editor").value = q.text.split("\n").filter((l) => !l.startsWith("#")).join("\n").trim();
  });
  $("editor").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      runEditor();
    } else if (event.key === "Tab") {
      event.preventDefault();
      const t = event.target;
      t.setRangeText("  ", t.selectionStart, t.selectionEnd, "end");
    }
  });
  try {
    const response = await fetch("/queries");
    const data = await response.json();
    state.prefixes = Object.entries(data.prefixes).sort((a, b) => b[1].length - a[1].length);
    const select = $("named");
    for (const q of data.queries) {
      state.queries[q.name] = q;
      const option = document.createElement("option");
      option.value = q.name;
      option.textContent = q.name;
      option.title = q.description;
      select.append(option);
    }
    $("status").textContent = `ready · ${data.queries.length} named queries`;
  } catch (err) {
    $("status").textContent = "could not load the named queries: " + err;
  }
  window.kgraph.ready = true;
}

document.addEventListener("DOMContentLoaded", init);
