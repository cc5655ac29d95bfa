"""A parser of the closed Shapes-World caption grammar (spec: /work/shared/spec/shapes-world.md) and per-attribute
accuracy of generated captions against scene metadata.

Per style:
- short ("a red circle [and a blue square]"): count, colour, shape;
- descriptive ("a small red circle at the top left [and a ... at the ...,] on a white background"): count, colour,
  shape, size, cell, background.
Predicted objects are matched to the ground-truth objects by the better of the (one or two) orderings; an attribute
is right when the matched predicted object has it. An unparseable caption scores 0 on everything.
"""
import itertools
import re

COLORS = "red|green|blue|yellow|purple|orange|cyan|pink"
SHAPES = "circle|square|triangle|diamond"
CELLS = "top left|top right|bottom left|bottom right|top|bottom|left|right|center"
OBJ_SHORT = r"a (%s) (%s)" % (COLORS, SHAPES)
OBJ_DESC = r"a (small|large) (%s) (%s) at the (%s)" % (COLORS, SHAPES, CELLS)
RE_SHORT = re.compile(r"^%s(?: and %s)?$" % (OBJ_SHORT, OBJ_SHORT))
RE_DESC1 = re.compile(r"^%s on a (white|gray|black) background$" % OBJ_DESC)
RE_DESC2 = re.compile(r"^%s and %s, on a (white|gray|black) background$" % (OBJ_DESC, OBJ_DESC))


def parse(caption, style):
    """-> {"objects": [{color, shape[, size, cell]}], "background": str|None} or None."""
    c = caption.strip()
    if style == "short":
        m = RE_SHORT.match(c)
        if not m:
            return None
        g = m.groups()
        objs = [{"color": g[0], "shape": g[1]}]
        if g[2]:
            objs.append({"color": g[2], "shape": g[3]})
        return {"objects": objs, "background": None}
    m = RE_DESC1.match(c)
    if m:
        g = m.groups()
        return {"objects": [{"size": g[0], "color": g[1], "shape": g[2], "cell": g[3]}], "background": g[4]}
    m = RE_DESC2.match(c)
    if m:
        g = m.groups()
        return {"objects": [{"size": g[0], "color": g[1], "shape": g[2], "cell": g[3]},
                            {"size": g[4], "color": g[5], "shape": g[6], "cell": g[7]}], "background": g[8]}
    return None


ATTRS = {"short": ["count", "color", "shape"], "descriptive": ["count", "color", "shape", "size", "cell", "background"]}


def score(captions, metas, style):
    """-> dict attribute -> accuracy, plus 'parsed' (fraction parseable) and 'n'."""
    attrs = ATTRS[style]
    hits = {a: 0 for a in attrs}
    tot = {a: 0 for a in attrs}
    parsed = 0
    for cap, meta in zip(captions, metas):
        gt = meta["objects"]
        p = parse(cap, style)
        tot["count"] += 1
        if "background" in attrs:
            tot["background"] += 1
        obj_attrs = [a for a in attrs if a not in ("count", "background")]
        for a in obj_attrs:
            tot[a] += len(gt)
        if p is None:
            continue
        parsed += 1
        hits["count"] += int(len(p["objects"]) == len(gt))
        if "background" in attrs:
            hits["background"] += int(p["background"] == meta["background"])
        best = None
        for perm in itertools.permutations(range(len(p["objects"])), min(len(gt), len(p["objects"]))):
            h = {a: sum(int(p["objects"][j][a] == gt[i][a]) for i, j in enumerate(perm)) for a in obj_attrs}
            if best is None or sum(h.values()) > sum(best.values()):
                best = h
        for a in obj_attrs:
            hits[a] += best[a] if best else 0
    out = {a: round(hits[a] / max(1, tot[a]), 4) for a in attrs}
    out["parsed"] = round(parsed / max(1, len(captions)), 4)
    out["n"] = len(captions)
    return out


def exact(captions, refs):
    return round(sum(int(c == r) for c, r in zip(captions, refs)) / max(1, len(refs)), 4)
