"""Positions for the HTML export: where each node of a picture goes, computed once, in Python.

Input: a ``networkx`` graph as ``kgraph.neighborhood`` returns it (nodes with a ``kind``), the
focus node, and what each node will look like (its label lines, font size, shape size, whether
the label sits inside the shape or below it). Output: ``{node: (x, y)}`` in px, and for the
sector layout the rectangles of the sectors (one per kind) so the page can title them.

``sector_layout`` (pictures up to ``SECTOR_MAX_NODES`` nodes): the focus in the centre, every
other kind in its own block of a 3 x 3 grid around it (diagnoses left, related procedures right,
modifiers above, taxonomies below, payers, gaps and Medicare specialties in the corners, any
other kind in the next free slot, stacked when the slots run out). Inside a block the nodes sit
in a grid of equal cells, each cell as large as the largest label of the block measured with an
upper bound of the font's character widths (DejaVu Sans, Chromium's ``sans-serif`` on Linux, is
the widest common one), so no two label boxes can overlap whatever the zoom: labels scale with
the picture. Nodes of a block are ordered by their distance from the focus, then by code, the
nearest next to the focus.

``radial_layout`` (larger pictures, code-only labels): each connected component a radial tree
around its focus (or busiest) node; no guarantee about labels, only that no two nodes share a
spot. It does not look at what nodes look like.

Deterministic: the same graph gives the same positions. It does not draw anything.
"""

from __future__ import annotations

import math
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import repeat
from typing import Any

import networkx as nx

__all__ = ["SECTOR_MAX_NODES", "SECTORS", "Look", "label_width", "radial_layout", "sector_layout"]

#: up to this many nodes the sector layout is used and no two label boxes overlap
SECTOR_MAX_NODES = 300
#: kind -> (slot (row, column) of the 3 x 3 grid, title of the sector); the focus is at (1, 1)
SECTORS: dict[str, tuple[tuple[int, int], str]] = {
    "ICD-10-CM": ((1, 0), "Diagnoses (ICD-10-CM)"),
    "CPT": ((1, 2), "Related procedures (CPT)"),
    "modifier": ((0, 1), "Modifiers"),
    "taxonomy": ((2, 1), "Taxonomies (NUCC)"),
    "payer": ((0, 2), "Payers"),
    "gap": ((0, 0), "Gaps (data not available)"),
    "Medicare specialty": ((2, 2), "Medicare specialties"),
    "HCPCS": ((2, 0), "Related procedures (HCPCS)"),
}
SLOTS = [(1, 0), (1, 2), (0, 1), (2, 1), (0, 2), (0, 0), (2, 2), (2, 0)]
#: block shape (width / height) wanted per slot: tall at the sides, wide above and below
ASPECT = {(1, 0): 0.7, (1, 2): 0.7, (0, 1): 3.0, (2, 1): 3.0}
CORNER_ASPECT = 1.4
CELL_GAP_X = 22.0   # px between two cells of a block
CELL_GAP_Y = 14.0
SLOT_GAP = 60.0     # px between blocks
TITLE_HEIGHT = 26.0
TITLE_FONT = 15.0   # px, bold, of a sector's title (drawn by the page)
#: line height of a vis-network label, as a multiple of its font size (measured: 1.0 plus the
#: label's vertical margins; 1.25 leaves room)
LINE_HEIGHT = 1.25
# px between a shape and the label below it (vis-network draws it at size + 2)
LABEL_OFFSET = 6.0
BOX_MARGIN = 5.0    # vis-network's default margin of a box / ellipse around its label

# radial layout: px between neighbouring nodes of a ring, and between rings
SPACING = 48.0
RING_GAP = 170.0


@dataclass(frozen=True)
class Look:
    """What a node will look like: label lines, font size in px, shape size (radius), label inside?"""

    lines: tuple[str, ...]
    font: float
    size: float
    inside: bool


def _em(ch: str) -> float:
    if ch in "MWmw@%\u2026":
        return 1.0
    if ch in " .,:;'|!iljtfI()[]/-":
        return 0.4
    return 0.8 if ch.isupper() else 0.65


#: em widths of printable ASCII; any other character counts as 1 em
EM = {chr(c): _em(chr(c)) for c in range(32, 127)} | {"\u2026": 1.0}


def label_width(text: str, font: float) -> float:
    """An upper bound of the width in px of ``text`` drawn at ``font`` px in a sans-serif face.

    The bounds are DejaVu Sans's advance widths rounded up (M/W 0.99 em, other capitals 0.79,
    lower case and digits 0.64, narrow punctuation 0.34); Liberation Sans and Arial are narrower.
    Characters outside ASCII count as 1 em.
    """
    return sum(map(EM.get, text, repeat(1.0, len(text)))) * font


def _box(look: Look) -> tuple[float, float, float]:
    """(width, height, y of the node's position below the box's top) of a node with its label."""
    text_w = max((label_width(t, look.font) for t in look.lines), default=0.0)
    text_h = len(look.lines) * look.font * LINE_HEIGHT
    if look.inside:
        w, h = text_w + 2 * BOX_MARGIN, text_h + 2 * BOX_MARGIN
        return w, h, h / 2
    w = max(text_w, 2 * look.size)
    return w, 2 * look.size + LABEL_OFFSET + text_h, look.size


def _title(kind: str) -> str:
    return SECTORS[kind][1] if kind in SECTORS else (kind or "(no kind)")


def sector_layout(G: nx.Graph, focus: Any, look: Callable[[Any], Look]
                  ) -> tuple[dict[Any, tuple[int, int]], list[dict[str, Any]]]:
    """Positions by kind around the focus, and the sectors ``[{kind, title, x, y, w, h}]``.

    ``look(node)`` says how the node will be drawn. Without a focus in ``G`` the busiest node
    takes the centre. Returns px positions (integers) and each sector's rectangle (top-left
    corner, width, height) in the same coordinates.
    """
    if G.number_of_nodes() == 0:
        return {}, []
    centre = focus if focus in G else max(G, key=lambda n: (G.degree(n), str(n)))
    hops = nx.single_source_shortest_path_length(G.to_undirected(as_view=True), centre)
    groups: dict[str, list[Any]] = defaultdict(list)
    for node, attrs in G.nodes(data=True):
        if node != centre:
            groups[str(attrs.get("kind") or "")].append(node)
    far = len(G) + 1
    for kind in groups:
        groups[kind].sort(key=lambda n: (hops.get(n, far), str(n)))

    # slots: a kind's own slot, then the free slots in order, then stacked on the emptiest
    slots: dict[tuple[int, int], list[str]] = defaultdict(list)
    rest = []
    for kind in sorted(groups, key=lambda k: (-len(groups[k]), k)):
        if kind in SECTORS:
            slots[SECTORS[kind][0]].append(kind)
        else:
            rest.append(kind)
    for kind in rest:
        free = [s for s in SLOTS if not slots[s]]
        slot = free[0] if free else min(SLOTS, key=lambda s: (sum(len(groups[k]) for k in slots[s]), SLOTS.index(s)))
        slots[slot].append(kind)

    blocks: dict[str, tuple[float, float, float, float, int, int, list[float]]] = {}
    for slot, kinds in slots.items():
        for kind in kinds:
            boxes = [_box(look(n)) for n in groups[kind]]
            cw = max(b[0] for b in boxes) + CELL_GAP_X
            ch = max(b[1] for b in boxes) + CELL_GAP_Y
            n = len(boxes)
            aspect = ASPECT.get(slot, CORNER_ASPECT)
            cols = max(1, min(n, round(math.sqrt(n * ch * aspect / cw))))
            rows = math.ceil(n / cols)
            width = max(cols * cw, 1.12 * label_width(_title(kind), TITLE_FONT) + CELL_GAP_X)  # bold title
            blocks[kind] = (width, rows * ch + TITLE_HEIGHT, cw, ch, cols, rows, [b[2] for b in boxes])

    cw0, ch0, dy0 = _box(look(centre))
    col_w = [0.0, cw0 + CELL_GAP_X, 0.0]
    row_h = [0.0, ch0 + CELL_GAP_Y, 0.0]
    for (r, c), kinds in slots.items():
        col_w[c] = max([col_w[c], *(blocks[k][0] for k in kinds)])
        row_h[r] = max(row_h[r], sum(blocks[k][1] for k in kinds) + SLOT_GAP * (len(kinds) - 1))
    # column / row edges, the centre cell around (0, 0)
    xs = [-col_w[1] / 2 - SLOT_GAP - col_w[0], -col_w[1] / 2, col_w[1] / 2 + SLOT_GAP]
    ys = [-row_h[1] / 2 - SLOT_GAP - row_h[0], -row_h[1] / 2, row_h[1] / 2 + SLOT_GAP]

    pos: dict[Any, tuple[int, int]] = {centre: (0, round(-ch0 / 2 + dy0))}
    sectors = []
    for (r, c), kinds in sorted(slots.items()):
        height = sum(blocks[k][1] for k in kinds) + SLOT_GAP * (len(kinds) - 1)
        # hug the centre: blocks above sit at the bottom of their row, blocks left at the right
        y = ys[r] + {0: row_h[r] - height, 1: (row_h[r] - height) / 2, 2: 0.0}[r]
        for kind in kinds:
            width, bh, cw, ch, cols, rows, dys = blocks[kind]
            x = xs[c] + {0: col_w[c] - width, 1: (col_w[c] - width) / 2, 2: 0.0}[c]
            sectors.append({"kind": kind, "title": _title(kind),
                            "x": round(x), "y": round(y), "w": round(width), "h": round(bh)})
            for i, node in enumerate(groups[kind]):
                row, col = divmod(i, cols)
                if r == 0:
                    row = rows - 1 - row      # nearest the centre first: fill from the bottom up
                if c == 0:
                    col = cols - 1 - col      # ... and from the right leftwards
                px = x + col * cw + cw / 2
                py = y + TITLE_HEIGHT + row * ch + CELL_GAP_Y / 2 + dys[i]
                pos[node] = (round(px), round(py))
            y += bh + SLOT_GAP
    return pos, sectors


def radial_layout(G: nx.Graph, focus: Any) -> dict[Any, tuple[int, int]]:
    """Positions in px: each component a radial tree around its focus (or busiest) node.

    Linear in the graph's size. networkx's spring_layout was measured here at 6.4 s for 2,000
    nodes and 31 s for 5,000 (scipy energy method), too slow for an export.
    """
    adj: dict[Any, set[Any]] = {n: set() for n in G}
    for s, o in G.edges():
        if s != o:
            adj[s].add(o)
            adj[o].add(s)
    order = {n: (str(G.nodes[n].get("kind") or ""), str(n)) for n in G}
    roots = sorted(G, key=lambda n: (n != focus, -len(adj[n]), order[n]))
    placed: set[Any] = set()
    comps: list[tuple[float, dict[Any, tuple[float, float]]]] = []
    for root in roots:
        if root not in placed:
            radius, pos = _radial_tree(root, adj, order)
            placed.update(pos)
            comps.append((radius, pos))
    if not comps:
        return {}
    # shelf packing of the components, the focus's first
    row_width = max(max(2 * r for r, _ in comps), math.sqrt(sum((2 * r) ** 2 for r, _ in comps)) * 1.15)
    out: dict[Any, tuple[int, int]] = {}
    x = y = row_height = 0.0
    for radius, pos in comps:
        if x > 0 and x + 2 * radius > row_width:
            x, y, row_height = 0.0, y + row_height, 0.0
        cx, cy = x + radius, y + radius
        for node, (px, py) in pos.items():
            out[node] = (round(cx + px), round(cy + py))
        x += 2 * radius
        row_height = max(row_height, 2 * radius)
    return out


def _radial_tree(root: Any, adj: Mapping[Any, set[Any]], order: Mapping[Any, tuple[str, str]]
                 ) -> tuple[float, dict[Any, tuple[float, float]]]:
    children: dict[Any, list[Any]] = {root: []}
    depth = {root: 0}
    bfs = [root]
    queue = deque([root])
    while queue:
        node = queue.popleft()
        for nxt in sorted(adj[node] - depth.keys(), key=order.__getitem__):
            depth[nxt] = depth[node] + 1
            children[node].append(nxt)
            children[nxt] = []
            bfs.append(nxt)
            queue.append(nxt)
    leaves: dict[Any, int] = {}
    for node in reversed(bfs):
        leaves[node] = sum(leaves[c] for c in children[node]) or 1
    # each node gets a wedge proportional to its leaves: the outermost ring is evenly spaced
    unit = 2 * math.pi / leaves[root]
    start, angle = {root: 0.0}, {root: 0.0}
    for node in bfs:
        a = start[node]
        for c in children[node]:
            start[c], angle[c] = a, a + leaves[c] * unit / 2
            a += leaves[c] * unit
    rings: dict[int, list[Any]] = defaultdict(list)
    for node in bfs[1:]:
        rings[depth[node]].append(node)
    radius = {root: 0.0}
    outer = 0.0
    for d in sorted(rings):
        ring = sorted(rings[d], key=angle.__getitem__)
        r = outer + RING_GAP
        k = 1  # a crowded ring becomes k staggered sub-rings
        while sum(2 * math.pi * (r + j * SPACING) / SPACING for j in range(k)) < len(ring):
            k += 1
        for i, node in enumerate(ring):
            radius[node] = r + (i % k) * SPACING
        outer = r + (k - 1) * SPACING
    pos = {n: (radius[n] * math.cos(angle[n]), radius[n] * math.sin(angle[n])) for n in bfs}
    return outer + SPACING, pos
