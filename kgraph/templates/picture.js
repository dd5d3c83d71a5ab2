// The picture as a document: sector titles on the canvas, PNG and SVG downloads, the printed figure.
// Reads window.kgraph (export.js). The SVG is drawn here from vis-network's node positions and
// bounding boxes, since vis-network draws on a canvas; every text goes through esc().
(function () {
  "use strict";
  var api = window.kgraph, network = api.network;
  var data = JSON.parse(document.getElementById("kg-data").textContent);
  var sectors = data.sectors || [];
  var NS = "http://www.w3.org/2000/svg";
  var INSIDE = {box: 1, ellipse: 1, circle: 1, database: 1, text: 1};
  var FONT = "sans-serif";
  api.sectors = sectors;

  function hiddenKind(kind) {
    var box = document.querySelector('input.kg-kind-filter[data-kind="' + CSS.escape(kind) + '"]');
    return !!box && !box.checked;
  }
  function shownSectors() { return sectors.filter(function (s) { return !hiddenKind(s.kind); }); }

  // sector backgrounds and titles, under the edges and nodes (so also in the PNG)
  network.on("beforeDrawing", function (ctx) {
    shownSectors().forEach(function (s) {
      ctx.fillStyle = "#f6f7f9"; ctx.strokeStyle = "#dde1e6"; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.rect(s.x - 8, s.y - 4, s.w + 16, s.h + 12); ctx.fill(); ctx.stroke();
      ctx.fillStyle = "#4a4f57"; ctx.font = "bold 15px " + FONT; ctx.textBaseline = "top";
      ctx.fillText(s.title, s.x, s.y + 2);
    });
  });

  network.redraw();

  function esc(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }
  function num(x) { return String(Math.round(x * 10) / 10); }
  function attrs(o) {
    return Object.keys(o).map(function (k) { return k + '="' + esc(o[k]) + '"'; }).join(" ");
  }

  function shapeSVG(n, p, b) {
    var size = n.size || 14, fill = n.color.background, stroke = n.color.border;
    var style = attrs({fill: fill, stroke: stroke, "stroke-width": n.borderWidth || 1.5}) +
      (n.shapeProperties && n.shapeProperties.borderDashes ? ' stroke-dasharray="5 4"' : "");
    var x = p.x, y = p.y, pts;
    switch (n.shape) {
      case "box":
        return '<rect x="' + num(b.left) + '" y="' + num(b.top) + '" width="' + num(b.right - b.left) +
          '" height="' + num(b.bottom - b.top) + '" rx="6" ' + style + "/>";
      case "ellipse": case "circle": case "database": case "text":
        return '<ellipse cx="' + num(x) + '" cy="' + num(y) + '" rx="' + num((b.right - b.left) / 2) +
          '" ry="' + num((b.bottom - b.top) / 2) + '" ' + style + "/>";
      case "square":
        return '<rect x="' + num(x - size) + '" y="' + num(y - size) + '" width="' + num(2 * size) +
          '" height="' + num(2 * size) + '" ' + style + "/>";
      case "diamond":
        pts = [[x, y + size], [x + size, y], [x, y - size], [x - size, y]]; break;
      case "hexagon":
        pts = [0, 1, 2, 3, 4, 5].map(function (i) {
          return [x + size * Math.cos(Math.PI / 3 * i), y + size * Math.sin(Math.PI / 3 * i)];
        });
        break;
      case "triangle": case "triangleDown":
        var down = n.shape === "triangleDown" ? -1 : 1, s = size * 1.15, cy = y + down * 0.275 * s;
        var side = 2 * s, h = Math.sqrt(3) / 6 * side, a = Math.sqrt(side * side - s * s);
        pts = [[x, cy - down * (a - h)], [x + s, cy + down * h], [x - s, cy + down * h]];
        break;
      default:
        return '<circle cx="' + num(x) + '" cy="' + num(y) + '" r="' + num(size) + '" ' + style + "/>";
    }
    return '<polygon points="' + pts.map(function (q) { return num(q[0]) + "," + num(q[1]); }).join(" ") +
      '" ' + style + "/>";
  }

  function labelSVG(n, p) {
    var lines = String(n.label || "").split("\n"), fs = (n.font && n.font.size) || 13;
    var y0 = INSIDE[n.shape] ? p.y - (lines.length * fs) / 2 + fs * 0.8 : p.y + (n.size || 14) + 2 + fs * 0.9;
    var spans = lines.map(function (line, i) {
      return '<tspan x="' + num(p.x) + '" y="' + num(y0 + i * fs * 1.1) + '">' + esc(line) + "</tspan>";
    }).join("");
    var halo = INSIDE[n.shape] ? "" : ' stroke="#ffffff" stroke-width="3" paint-order="stroke"';
    return '<text class="kg-node-label" data-id="' + esc(n.id) + '" text-anchor="middle" font-family="' +
      FONT + '" font-size="' + fs + '" fill="#222222"' + halo + ">" + spans + "</text>";
  }

  // where a line from a to the node's centre meets the node's outline (its box, or its shape's radius)
  function clip(a, p, n, b) {
    var dx = a.x - p.x, dy = a.y - p.y, d = Math.hypot(dx, dy) || 1;
    if (INSIDE[n.shape]) {
      var hw = (b.right - b.left) / 2 + 2, hh = (b.bottom - b.top) / 2 + 2;
      var t = Math.min(hw / Math.abs(dx || 1e-9), hh / Math.abs(dy || 1e-9));
      return {x: p.x + dx * Math.min(t, 1), y: p.y + dy * Math.min(t, 1)};
    }
    var r = Math.min((n.size || 14) + 3, d);
    return {x: p.x + dx / d * r, y: p.y + dy / d * r};
  }

  function edgeSVG(e, pos, byId, boxes) {
    var a = pos[e.from], b = pos[e.to];
    if (!a || !b) { return ""; }
    var colour = (e.color && e.color.color) || "#999999", width = e.width || 1;
    var curved = e.smooth && e.smooth.enabled, ctrl = null;
    if (curved && e.from !== e.to) {
      var sign = e.smooth.type === "curvedCCW" ? -1 : 1, r = e.smooth.roundness || 0.25;
      ctrl = {x: (a.x + b.x) / 2 + sign * r * (a.y - b.y), y: (a.y + b.y) / 2 - sign * r * (a.x - b.x)};
    }
    var start = clip(ctrl || b, a, byId[e.from], boxes[e.from]), end = clip(ctrl || a, b, byId[e.to], boxes[e.to]);
    var dash = e.dashes ? ' stroke-dasharray="' + (Array.isArray(e.dashes) ? e.dashes.join(" ") : "5 5") + '"' : "";
    var path = ctrl ? "M" + num(start.x) + " " + num(start.y) + " Q" + num(ctrl.x) + " " + num(ctrl.y) + " " +
      num(end.x) + " " + num(end.y) : "M" + num(start.x) + " " + num(start.y) + " L" + num(end.x) + " " + num(end.y);
    var from = ctrl || start, ang = Math.atan2(end.y - from.y, end.x - from.x), L = 9 + 2 * width;
    var head = [[end.x, end.y],
                [end.x - L * Math.cos(ang - 0.4), end.y - L * Math.sin(ang - 0.4)],
                [end.x - L * Math.cos(ang + 0.4), end.y - L * Math.sin(ang + 0.4)]];
    var out = '<g class="kg-edge" data-relation="' + esc(e.relation) + '"><path d="' + path + '" fill="none" stroke="' +
      esc(colour) + '" stroke-width="' + width + '"' + dash + "/>" + '<polygon points="' +
      head.map(function (q) { return num(q[0]) + "," + num(q[1]); }).join(" ") + '" fill="' + esc(colour) + '"/>';
    if (e.label) {
      var mx = ctrl ? (a.x + 2 * ctrl.x + b.x) / 4 : (a.x + b.x) / 2, my = ctrl ? (a.y + 2 * ctrl.y + b.y) / 4 : (a.y + b.y) / 2;
      out += '<text class="kg-edge-label" x="' + num(mx) + '" y="' + num(my + 4) + '" text-anchor="middle" font-family="' +
        FONT + '" font-size="11" fill="#333333" stroke="#ffffff" stroke-width="3" paint-order="stroke">' +
        esc(e.label) + "</text>";
    }
    return out + "</g>";
  }

  // the picture as SVG text: the nodes and edges shown now, where they are now, and the sector titles
  function pictureSVG() {
    var ids = api.nodesView.getIds(), pos = network.getPositions(ids), byId = {}, boxes = {};
    var minX = Infinity, minY = Infinity, maxX = -Infinity, maxY = -Infinity;
    function grow(l, t, r, b) { minX = Math.min(minX, l); minY = Math.min(minY, t); maxX = Math.max(maxX, r); maxY = Math.max(maxY, b); }
    ids.forEach(function (id) {
      byId[id] = api.nodes.get(id);
      var b = network.getBoundingBox(id);
      boxes[id] = b; grow(b.left, b.top, b.right, b.bottom);
    });
    var shown = shownSectors();
    shown.forEach(function (s) { grow(s.x - 8, s.y - 4, s.x + s.w + 8, s.y + s.h + 8); });
    if (!ids.length && !shown.length) { grow(0, 0, 100, 100); }
    var m = 20, w = maxX - minX + 2 * m, h = maxY - minY + 2 * m;
    var parts = ['<svg xmlns="' + NS + '" version="1.1" viewBox="' + [minX - m, minY - m, w, h].map(num).join(" ") +
      '" width="' + num(w) + '" height="' + num(h) + '">',
      "<title>" + esc(document.getElementById("kg-title").textContent) + "</title>",
      '<rect x="' + num(minX - m) + '" y="' + num(minY - m) + '" width="' + num(w) + '" height="' + num(h) + '" fill="#ffffff"/>'];
    shown.forEach(function (s) {
      parts.push('<g class="kg-sector" data-kind="' + esc(s.kind) + '"><rect x="' + num(s.x - 8) + '" y="' + num(s.y - 4) +
        '" width="' + num(s.w + 16) + '" height="' + num(s.h + 12) + '" fill="#f6f7f9" stroke="#dde1e6"/>' +
        '<text class="kg-sector-title" x="' + num(s.x) + '" y="' + num(s.y + 15) + '" font-family="' + FONT +
        '" font-size="15" font-weight="bold" fill="#4a4f57">' + esc(s.title) + "</text></g>");
    });
    api.edgesView.get().forEach(function (e) { parts.push(edgeSVG(e, pos, byId, boxes)); });
    ids.forEach(function (id) {
      var n = byId[id];
      parts.push('<g class="kg-node" data-kind="' + esc(n.kind) + '">' + shapeSVG(n, pos[id], boxes[id]) +
        labelSVG(n, pos[id]) + "</g>");
    });
    parts.push("</svg>");
    return parts.join("\n");
  }
  api.pictureSVG = pictureSVG;

  function save(blob, name) {
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob); a.download = name; a.style.display = "none";
    document.body.appendChild(a); a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 5000);
  }
  // PNG: the canvas as shown now (press Fit first for the whole picture), on white
  function downloadPNG() {
    var src = document.querySelector("#kg-network canvas"), c = document.createElement("canvas");
    c.width = src.width; c.height = src.height;
    var ctx = c.getContext("2d");
    ctx.fillStyle = "#ffffff"; ctx.fillRect(0, 0, c.width, c.height); ctx.drawImage(src, 0, 0);
    c.toBlob(function (blob) { save(blob, data.name + ".png"); }, "image/png");
  }
  function downloadSVG() {
    save(new Blob(['<?xml version="1.0" encoding="UTF-8"?>\n' + pictureSVG() + "\n"], {type: "image/svg+xml"}),
         data.name + ".svg");
  }
  document.getElementById("kg-download-png").addEventListener("click", downloadPNG);
  document.getElementById("kg-download-svg").addEventListener("click", downloadSVG);

  // the printed page shows the SVG (vector, the whole picture), refreshed whenever it may have changed
  var printBox = document.getElementById("kg-print-picture");
  function renderPrint() {
    if (!api.ready) { return; }
    var doc = new DOMParser().parseFromString(pictureSVG(), "image/svg+xml");
    var svg = document.importNode(doc.documentElement, true);
    svg.removeAttribute("width"); svg.removeAttribute("height");
    svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
    printBox.replaceChildren(svg);
  }
  api.renderPrint = renderPrint;
  window.addEventListener("beforeprint", renderPrint);
  network.on("dragEnd", renderPrint);
  // nodes shown again get their bounding boxes when drawn
  api.hooks.refresh.push(function () { network.once("afterDrawing", renderPrint); network.redraw(); });
  if (api.ready) { renderPrint(); } else { api.hooks.ready.push(renderPrint); }
})();
