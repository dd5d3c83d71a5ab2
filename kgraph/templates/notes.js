// Review notes on an exported picture (kgraph.notes; README "Review notes").
// A reviewer selects a node or an edge, writes a decision, a comment and a name; the notes stay in this
// browser's localStorage under the export's id, list in the panel, and download as JSON and CSV for
// `kgraph notes import`. Notes already imported into the build come with the page, read-only.
(function () {
  "use strict";
  var api = window.kgraph;
  if (!api) { return; }
  var data = JSON.parse(document.getElementById("kg-data").textContent);
  var exportId = String(data.exportId || "");
  var stored = data.storedNotes || [];
  var KEY = "kgraph-notes:" + exportId, AUTHOR = "kgraph-notes-author";
  var DECISIONS = ["agree", "disagree", "question", "action"];
  var COLUMNS = ["export_id", "note_id", "target", "target_label", "kind", "decision", "author", "time", "text"];
  var network = api.network;

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  // ------------------------------------------------------------ storage (memory when localStorage is refused)
  var memory = null;
  function load() {
    if (memory) { return memory; }
    try { return JSON.parse(window.localStorage.getItem(KEY) || "[]"); } catch (e) { memory = []; return memory; }
  }
  function save(list) {
    try { window.localStorage.setItem(KEY, JSON.stringify(list)); memory = null; } catch (e) {
      memory = list; say("This browser does not keep notes for files: download them before closing the page.");
    }
  }
  function remembered(key) { try { return window.localStorage.getItem(key) || ""; } catch (e) { return ""; } }

  // ------------------------------------------------------------ targets: what a selection is
  function nodeTarget(id) {
    var n = api.nodes.get(id);
    return n && n.iri ? {id: id, what: "node", iri: n.iri, label: String(n.label || id).replace(/\n/g, " "),
                           kind: "node"} : null;
  }
  function edgeTarget(id) {
    var e = api.edges.get(id);
    if (!e) { return null; }
    var label = e.from + " \u2192 " + e.to + " (" + e.relation + ")";
    return {id: id, what: "edge", iri: e.target || "", label: label, kind: "edge"};
  }
  function selected() {
    var nodes = network.getSelectedNodes(), edges = network.getSelectedEdges();
    if (nodes.length === 1) { return nodeTarget(nodes[0]); }
    if (!nodes.length && edges.length === 1) { return edgeTarget(edges[0]); }
    return null;
  }
  function itemsFor(iri) {
    var out = {nodes: [], edges: []};
    api.nodes.forEach(function (n) { if (n.iri === iri) { out.nodes.push(n.id); } });
    api.edges.forEach(function (e) { if (e.target === iri) { out.edges.push(e.id); } });
    return out;
  }
  function select(iri) {
    var found = itemsFor(iri), shown = api.nodesView.getIds(), shownEdges = api.edgesView.getIds();
    var nodes = found.nodes.filter(function (id) { return shown.indexOf(id) >= 0; });
    var edges = found.edges.filter(function (id) { return shownEdges.indexOf(id) >= 0; });
    if (!nodes.length && !edges.length) {
      say(found.nodes.length || found.edges.length ? "Its target is hidden by a filter (Show all)." :
          "Its target " + iri + " is not in this picture.");
      return false;
    }
    network.setSelection({nodes: nodes, edges: nodes.length ? [] : edges.slice(0, 1)}, {unselectAll: true});
    if (nodes.length) { network.focus(nodes[0], {scale: Math.max(network.getScale(), 1.2)}); }
    current = selected();
    showTarget();
    return true;
  }

  // ------------------------------------------------------------ the panel
  var section = el("section", {id: "kg-notes", "aria-label": "review notes"});
  section.appendChild(el("h2", null, "Review notes"));
  var target = el("p", {id: "kg-note-target", "class": "kg-dim"}, "Select a node or an edge to write a note.");
  section.appendChild(target);
  var form = el("form", {id: "kg-note-form"});
  var decision = el("select", {id: "kg-note-decision", "aria-label": "decision"});
  DECISIONS.forEach(function (d) { decision.appendChild(el("option", {value: d}, d)); });
  var author = el("input", {id: "kg-note-author", type: "text", placeholder: "your name", autocomplete: "name",
                            "aria-label": "author"});
  author.value = remembered(AUTHOR);
  var text = el("textarea", {id: "kg-note-text", rows: "3", placeholder: "comment", "aria-label": "comment"});
  var saveButton = el("button", {id: "kg-note-save", type: "submit"}, "Save note");
  var cancel = el("button", {id: "kg-note-cancel", type: "button"}, "Cancel edit");
  cancel.hidden = true;
  var row = el("div", {"class": "kg-row"});
  row.appendChild(decision); row.appendChild(author);
  form.appendChild(row); form.appendChild(text);
  var buttons = el("div", {"class": "kg-row"});
  buttons.appendChild(saveButton); buttons.appendChild(cancel);
  form.appendChild(buttons);
  section.appendChild(form);
  var status = el("p", {id: "kg-note-status", role: "status"});
  section.appendChild(status);
  section.appendChild(el("h3", null, "In this browser"));
  var localList = el("ul", {id: "kg-notes-local", "class": "kg-notes"});
  section.appendChild(localList);
  var downloads = el("div", {"class": "kg-row"});
  var json = el("button", {id: "kg-notes-json", type: "button"}, "Download JSON");
  var csv = el("button", {id: "kg-notes-csv", type: "button"}, "Download CSV");
  downloads.appendChild(json); downloads.appendChild(csv);
  section.appendChild(downloads);
  section.appendChild(el("h3", null, "Imported into the build (read-only)"));
  var storedList = el("ul", {id: "kg-notes-stored", "class": "kg-notes"});
  section.appendChild(storedList);
  section.appendChild(el("p", {"class": "kg-dim kg-note-id"}, "export id " + exportId));
  var details = document.getElementById("kg-details");
  var panel = document.getElementById("kg-panel");
  if (details && details.parentNode === panel) { panel.insertBefore(section, details.nextSibling); } else {
    panel.appendChild(section);
  }

  var current = null, editing = null;
  function say(message) { status.textContent = message; }
  function showTarget() {
    // the notes already on the selection stand out in both lists
    Array.prototype.forEach.call(section.querySelectorAll("li.kg-note"), function (li) {
      li.classList.toggle("kg-note-current", !!(current && current.iri && li.dataset.target === current.iri));
    });
    if (!current) {
      target.textContent = "Select a node or an edge to write a note.";
      target.className = "kg-dim";
    } else if (!current.iri) {
      target.textContent = current.label + ": this edge has no statement of its own (no assertion or code-set " +
        "row); write the note on one of its codes.";
      target.className = "kg-dim";
    } else {
      target.textContent = "Note on " + current.what + " " + current.label;
      target.className = "";
    }
  }

  function noteItem(note, local) {
    var li = el("li", {"class": "kg-note kg-note-" + note.decision + (local ? " kg-note-local" : " kg-note-stored"),
                       "data-target": note.target, "data-note": note.note_id});
    var head = el("div", {"class": "kg-note-head"});
    head.appendChild(el("span", {"class": "kg-note-decision"}, note.decision));
    head.appendChild(document.createTextNode(" " + (note.target_label || note.target)));
    li.appendChild(head);
    if (note.text) { li.appendChild(el("div", {"class": "kg-note-text"}, note.text)); }
    var by = (note.author || "no name") + ", " + note.time;
    li.appendChild(el("div", {"class": "kg-dim"}, local ? by : by + " \u00b7 " + note.file + ":" + note.line));
    li.addEventListener("click", function () { select(note.target); });
    if (local) {
      var edit = el("button", {type: "button", "class": "kg-note-edit"}, "Edit");
      var del = el("button", {type: "button", "class": "kg-note-delete"}, "Delete");
      edit.addEventListener("click", function (ev) { ev.stopPropagation(); startEdit(note); });
      del.addEventListener("click", function (ev) {
        ev.stopPropagation();
        save(load().filter(function (n) { return n.note_id !== note.note_id; }));
        if (editing === note.note_id) { stopEdit(); }
        render(); say("Note deleted.");
      });
      var tools = el("div", {"class": "kg-row"});
      tools.appendChild(edit); tools.appendChild(del);
      li.appendChild(tools);
    }
    return li;
  }

  var marked = {nodes: [], edges: []};
  function mark() {
    // a shadow on every node and edge that has a note: blue for this browser's, purple for imported ones
    var upd = {nodes: [], edges: []}, colour = {};
    stored.forEach(function (n) { colour[n.target] = "rgba(123,79,157,0.9)"; });
    load().forEach(function (n) { colour[n.target] = "rgba(44,106,166,0.9)"; });
    marked.nodes.forEach(function (id) { upd.nodes.push({id: id, shadow: {enabled: false}}); });
    marked.edges.forEach(function (id) { upd.edges.push({id: id, shadow: {enabled: false}}); });
    marked = {nodes: [], edges: []};
    Object.keys(colour).forEach(function (iri) {
      var found = itemsFor(iri), shadow = {enabled: true, color: colour[iri], size: 14, x: 0, y: 0};
      found.nodes.forEach(function (id) { marked.nodes.push(id); upd.nodes.push({id: id, shadow: shadow}); });
      found.edges.forEach(function (id) { marked.edges.push(id); upd.edges.push({id: id, shadow: shadow}); });
    });
    if (upd.nodes.length) { api.nodes.update(upd.nodes); }
    if (upd.edges.length) { api.edges.update(upd.edges); }
  }
  function render() {
    var notes = load();
    while (localList.firstChild) { localList.removeChild(localList.firstChild); }
    while (storedList.firstChild) { storedList.removeChild(storedList.firstChild); }
    notes.forEach(function (n) { localList.appendChild(noteItem(n, true)); });
    if (!notes.length) { localList.appendChild(el("li", {"class": "kg-dim"}, "none yet")); }
    stored.forEach(function (n) { storedList.appendChild(noteItem(n, false)); });
    if (!stored.length) { storedList.appendChild(el("li", {"class": "kg-dim"}, "none in this build")); }
    json.disabled = csv.disabled = !notes.length;
    mark();
    showTarget();
  }

  function startEdit(note) {
    editing = note.note_id;
    decision.value = note.decision; author.value = note.author; text.value = note.text;
    current = {iri: note.target, label: note.target_label, kind: note.kind, what: note.kind};
    select(note.target);
    current = {iri: note.target, label: note.target_label, kind: note.kind, what: note.kind};
    showTarget();
    saveButton.textContent = "Save changes"; cancel.hidden = false;
  }
  function stopEdit() {
    editing = null; text.value = ""; saveButton.textContent = "Save note"; cancel.hidden = true;
  }
  cancel.addEventListener("click", function () { stopEdit(); current = selected(); showTarget(); });

  function newId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 10);
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (!editing) { current = selected() || current; }
    if (!current || !current.iri) { showTarget(); say("Select a node or an edge with a statement first."); return; }
    if (!author.value.trim()) { say("Write your name: a note says who decided."); author.focus(); return; }
    try { window.localStorage.setItem(AUTHOR, author.value.trim()); } catch (e) { /* kept in the form */ }
    var notes = load(), now = new Date().toISOString();
    if (editing) {
      notes.forEach(function (n) {
        if (n.note_id === editing) {
          n.decision = decision.value; n.author = author.value.trim(); n.text = text.value; n.time = now;
        }
      });
      say("Note changed.");
    } else {
      notes.push({export_id: exportId, note_id: newId(), target: current.iri, target_label: current.label,
                  kind: current.kind, decision: decision.value, author: author.value.trim(), time: now,
                  text: text.value});
      say("Note saved in this browser (download it to import it into the build).");
    }
    save(notes);
    stopEdit();
    render();
  });

  // ------------------------------------------------------------ downloads
  function download(name, type, body) {
    var url = URL.createObjectURL(new Blob([body], {type: type}));
    var a = el("a", {href: url, download: name});
    document.body.appendChild(a); a.click(); document.body.removeChild(a);
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  }
  function cell(value) { return "\"" + String(value === undefined || value === null ? "" : value).replace(/"/g, "\"\"") + "\""; }
  json.addEventListener("click", function () {
    var body = {format: "kgraph-notes", version: 1, export_id: exportId,
                title: document.title, downloaded: new Date().toISOString(), notes: load()};
    download("kgraph-notes-" + exportId + ".json", "application/json", JSON.stringify(body, null, 2) + "\n");
  });
  csv.addEventListener("click", function () {
    var lines = [COLUMNS.join(",")];
    load().forEach(function (n) { lines.push(COLUMNS.map(function (c) { return cell(n[c]); }).join(",")); });
    download("kgraph-notes-" + exportId + ".csv", "text/csv", lines.join("\r\n") + "\r\n");
  });

  network.on("click", function () { if (!editing) { current = selected(); showTarget(); } });
  var find = api.find;
  if (find) {
    api.find = function (q) { var ids = find(q); if (!editing) { current = selected(); showTarget(); } return ids; };
  }
  api.notes = {exportId: exportId, key: KEY, local: load, stored: stored, select: select};
  render();
})();
