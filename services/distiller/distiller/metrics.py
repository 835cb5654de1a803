"""AUROC and FROC, pure numpy, with exactly the definitions of test/fixtures/metrics-cases.json
(shared with the TypeScript metrics in services/shared/metrics): image score = max of the map;
detections = local maxima after greedy Chebyshev suppression; a detection is a true positive when
its pixel centre lies inside a ground-truth box not yet hit (first such box in list order)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FROC_RATES = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)


def auroc(scores, labels) -> float:
    """Mann-Whitney AUROC with midranks for ties; NaN when a class is missing."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels).astype(bool)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), dtype=np.float64)
    sorted_s = s[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1.0  # mean of 1-based ranks i+1..j+1
        i = j + 1
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def detections(prob_map: np.ndarray, suppression_radius: int) -> list[tuple[float, int, int]]:
    """(score, x, y) of the kept local maxima of a 2-D map, in descending score, ties by row-major
    index. Candidates: value > 0 and >= each of the up to 8 neighbours."""
    m = np.asarray(prob_map, dtype=np.float64)
    h, w = m.shape
    padded = np.full((h + 2, w + 2), -np.inf)
    padded[1:-1, 1:-1] = m
    is_max = m > 0
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if dy or dx:
                is_max &= m >= padded[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
    ys, xs = np.nonzero(is_max)
    vals = m[ys, xs]
    # Descending value, ties by ascending row-major index (np.nonzero is already row-major).
    order = np.lexsort((ys * w + xs, -vals))
    kept: list[tuple[float, int, int]] = []
    for k in order:
        x, y = int(xs[k]), int(ys[k])
        if suppression_radius > 0 and any(
                max(abs(x - kx), abs(y - ky)) <= suppression_radius for _, kx, ky in kept):
            continue
        kept.append((float(vals[k]), x, y))
    return kept


def _inside(x: int, y: int, box) -> bool:
    x0, y0, x1, y1 = box
    return x0 <= x + 0.5 < x1 and y0 <= y + 0.5 < y1


def match_image(dets: list[tuple[float, int, int]], boxes) -> list[tuple[float, bool]]:
    """(score, is_true_positive) for one image's detections, already in descending score."""
    hit = [False] * len(boxes)
    out = []
    for score, x, y in dets:
        tp = False
        for b, box in enumerate(boxes):
            if not hit[b] and _inside(x, y, box):
                hit[b] = tp = True
                break
        out.append((score, tp))
    return out


@dataclass
class FrocResult:
    total_boxes: int
    images: int
    curve: list[dict]  # threshold, truePositives, falsePositives, fpPerImage, sensitivity
    rates: tuple[float, ...]
    sensitivities: list[float]
    score: float

    def to_dict(self) -> dict:
        return {"totalBoxes": self.total_boxes, "images": self.images, "rates": list(self.rates),
                "sensitivities": self.sensitivities, "score": self.score}


def froc(maps, boxes_per_image, suppression_radius: int = 1, rates=FROC_RATES) -> FrocResult:
    """maps: 2-D arrays (one per image); boxes_per_image: lists of [x0, y0, x1, y1] in map pixel
    coordinates (input-pixel boxes divided by the output stride)."""
    if len(maps) != len(boxes_per_image):
        raise ValueError("froc: one box list per map is required")
    n_images = len(maps)
    total = sum(len(b) for b in boxes_per_image)
    scored: list[tuple[float, bool]] = []
    for m, boxes in zip(maps, boxes_per_image):
        scored.extend(match_image(detections(m, suppression_radius), boxes))
    scored.sort(key=lambda d: -d[0])
    curve = []
    tp = fp = 0
    i = 0
    while i < len(scored):
        threshold = scored[i][0]
        while i < len(scored) and scored[i][0] == threshold:
            tp += scored[i][1]
            fp += not scored[i][1]
            i += 1
        curve.append({"threshold": threshold, "truePositives": tp, "falsePositives": fp,
                      "fpPerImage": fp / n_images if n_images else float("nan"),
                      "sensitivity": tp / total if total else float("nan")})
    if total == 0:
        sens = [float("nan")] * len(rates)
    else:
        sens = []
        for r in rates:
            ok = [p["sensitivity"] for p in curve if p["fpPerImage"] <= r]
            sens.append(max(ok) if ok else 0.0)
    score = float(np.mean(sens)) if total else float("nan")
    return FrocResult(total, n_images, curve, tuple(rates), sens, score)
