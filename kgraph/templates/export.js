
(function () {
  "use strict";
  var timings = {start: performance.now()};
  var data = JSON.parse(document.getElementById("kg-data").textContent);

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  // tooltips are DOM elements filled with textContent: vis-network would render a string as HTML
  function tipElement(t) {
    var box = el("div", "kg-tip");
    box.appendChild(el("div", "kg-tip-head", t.head));
    (t.lines || []).forEach(function (kv) {
      var row = el("div", "kg-tip-row");
      row.appendChild(el("span", "kg-tip-key", kv[0] + ": "));
      row.appendChild(el("span", "kg-tip-val", kv[1]));
      box.appendChild(row);
    });
    (t.notes || []).forEach(function (n) { box.appendChild(el("div", "kg-tip-note kg-" + n[0], n[1])); });
    return box;
  }
  var tips = {nodes: {}, edges: {}};
  var kindOf = {};
  data.nodes.forEach(function (n) {
    tips.nodes[n.id] = n.tip; n.title = tipElement(n.tip); delete n.tip; kindOf[n.id] = n.kind;
  });
  data.edges.forEach(function (e) { tips.edges[e.id] = e.tip; e.title = tipElement(e.tip); delete e.tip; });

  var hiddenKinds = {}, hiddenRelations = {};
  var nodes = new vis.DataSet(data.nodes);
  var edges = new vis.DataSet(data.edges);
  var nodesView = new vis.DataView(nodes, {filter: function (n) { return !hiddenKinds[n.kind]; }});
  var edgesView = new vis.DataView(edges, {filter: function (e) {
    return !hiddenRelations[e.relation] && !hiddenKinds[kindOf[e.from]] && !hiddenKinds[kindOf[e.to]];
  }});
  var container = document.getElementById("kg-network");
  // listeners first, data second: a small graph may finish stabilising while its data is set
  var network = new vis.Network(container, {}, data.options);
  var api = {network: network, nodes: nodes, edges: edges, nodesView: nodesView, edgesView: edgesView,
             timings: timings, ready: false, hooks: {ready: [], refresh: []}};
  window.kgraph = api;
  window.kgraphNetwork = network;

  var physicsBox = document.getElementById("kg-physics");
  physicsBox.checked = !!data.physics;
  function markReady() {
    if (api.ready) { return; }
    network.once("afterDrawing", function () {
      timings.drawn = performance.now(); api.ready = true;
      api.hooks.ready.forEach(function (fn) { fn(); });
    });
    network.redraw();
  }
  var physics = data.physics && data.nodes.length > 0;
  if (physics) {
    network.once("stabilizationIterationsDone", function () {
      timings.stabilized = performance.now();
      // a still picture for the meeting: physics off once stable (the checkbox turns it back on)
      network.setOptions({physics: {enabled: false}});
      physicsBox.checked = false;
      savePositions();
      markReady();
    });
  }
  network.setData({nodes: nodesView, edges: edgesView});
  if (!physics) {
    network.setOptions({physics: {enabled: false}});
    physicsBox.checked = false;
    timings.stabilized = performance.now();
    markReady();
  }
  physicsBox.addEventListener("change", function () {
    network.setOptions({physics: {enabled: physicsBox.checked}});
  });

  function savePositions() {
    // keep where nodes are when others are hidden and shown again (storePositions fails on a filtered view)
    var pos = network.getPositions(), upd = [];
    Object.keys(pos).forEach(function (id) {
      upd.push({id: id, x: Math.round(pos[id].x), y: Math.round(pos[id].y)});
    });
    nodes.update(upd);
  }
  function refresh() {
    savePositions();
    nodesView.refresh();
    edgesView.refresh();
    api.hooks.refresh.forEach(function (fn) { fn(); });
  }
  api.visibleNodeIds = function () { return nodesView.getIds(); };
  api.visibleEdgeIds = function () { return edgesView.getIds(); };

  Array.prototype.forEach.call(document.querySelectorAll("input.kg-kind-filter"), function (box) {
    box.addEventListener("change", function () { hiddenKinds[box.dataset.kind] = !box.checked; refresh(); });
  });
  Array.prototype.forEach.call(document.querySelectorAll("input.kg-relation-filter"), function (box) {
    box.addEventListener("change", function () {
      hiddenRelations[box.dataset.relation] = !box.checked; refresh();
    });
  });
  document.getElementById("kg-show-all").addEventListener("click", function () {
    hiddenKinds = {}; hiddenRelations = {};
    Array.prototype.forEach.call(document.querySelectorAll("input.kg-kind-filter, input.kg-relation-filter"),
      function (box) { box.checked = true; });
    refresh();
  });
  document.getElementById("kg-fit").addEventListener("click", function () { network.fit(); });

  // search: an exact CURIE or a bare code (74360, K22.2 or K222), case and spaces ignored
  var index = {};
  function norm(s) { return String(s).toUpperCase().replace(/\s+/g, ""); }
  function add(key, id) { (index[key] = index[key] || []).indexOf(id) < 0 && index[key].push(id); }
  data.nodes.forEach(function (n) {
    var id = String(n.id), local = id.slice(id.indexOf(":") + 1);
    [norm(id), norm(local)].forEach(function (k) { add(k, id); add(k.replace(/\./g, ""), id); });
  });
  var status = document.getElementById("kg-search-status");
  var input = document.getElementById("kg-search");
  function find(query) {
    var key = norm(query);
    if (!key) { status.textContent = ""; return []; }
    var ids = index[key] || index[key.replace(/\./g, "")] || [];
    if (!ids.length) {
      status.textContent = "No code \u201c" + query + "\u201d in this picture.";
      network.unselectAll(); showDetails(null);
      return [];
    }
    var reshown = [];
    ids.forEach(function (id) {
      var kind = kindOf[id];
      if (hiddenKinds[kind]) {
        hiddenKinds[kind] = false; reshown.push(kind);
        Array.prototype.forEach.call(document.querySelectorAll("input.kg-kind-filter"), function (box) {
          if (box.dataset.kind === kind) { box.checked = true; }
        });
      }
    });
    if (reshown.length) { refresh(); }
    network.selectNodes(ids);
    if (ids.length === 1) {
      network.focus(ids[0], {scale: Math.max(network.getScale(), 1.3),
                             animation: {duration: 400, easingFunction: "easeInOutQuad"}});
      showDetails({nodes: ids, edges: []});
    } else {
      network.fit({nodes: ids, animation: {duration: 400, easingFunction: "easeInOutQuad"}});
    }
    status.textContent = "Found " + ids.join(", ") +
      (reshown.length ? " (showing " + reshown.join(", ") + " again)" : "");
    return ids;
  }
  api.find = find;
  document.getElementById("kg-search-go").addEventListener("click", function () { find(input.value); });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter") { ev.preventDefault(); find(input.value); }
  });

  var details = document.getElementById("kg-details-body");
  function showDetails(sel) {
    while (details.firstChild) { details.removeChild(details.firstChild); }
    var items = [];
    if (sel) {
      (sel.nodes || []).forEach(function (id) { if (tips.nodes[id]) { items.push(tips.nodes[id]); } });
      if (!items.length) {
        (sel.edges || []).forEach(function (id) { if (tips.edges[id]) { items.push(tips.edges[id]); } });
      }
    }
    if (!items.length) { details.appendChild(el("span", "kg-dim", "Click a node or an edge.")); return; }
    items.forEach(function (t) { details.appendChild(tipElement(t)); });
  }
  network.on("click", function (params) { showDetails(params); });
})();
