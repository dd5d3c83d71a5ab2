// Reads a GEXF file with graphology-gexf (the GEXF parser of Gephi Lite and sigma.js) and prints
// the graph as JSON: a second GEXF reader for tests/test_export.py, besides networkx.
// Usage: node read.js FILE.gexf
const fs = require('fs');
const Graph = require('graphology');
const gexf = require('graphology-gexf');

const graph = gexf.parse(Graph, fs.readFileSync(process.argv[2], 'utf8'));
const nodes = [];
graph.forEachNode((key, attributes) => nodes.push([key, attributes]));
const edges = [];
graph.forEachEdge((key, attributes, source, target) => edges.push([source, target, attributes]));
console.log(JSON.stringify({type: graph.type, multi: graph.multi, nodes, edges}));
