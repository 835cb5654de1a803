"""Runs a detector over a prepared split and scores it: AUROC per class (image score = max of the
map) and FROC (metrics.py), against the expert boxes of the held-out region-labelled set."""

from __future__ import annotations

import math

import numpy as np
import torch

from . import CLASSES
from .data import Prepared, has_class
from .metrics import FROC_RATES, auroc, froc

DEFAULT_SUPPRESSION_RADIUS = 2
"""Map cells (8 input pixels at stride 4): maxima closer than this to a stronger one are one finding."""


@torch.no_grad()
def predict(model: torch.nn.Module, prepared: Prepared, indices, device: torch.device,
            batch_size: int = 32) -> np.ndarray:
    """Probability maps float32 [N, 2, h, w] for prepared images `indices`, in that order."""
    model.eval()
    out = []
    for start in range(0, len(indices), batch_size):
        x = torch.from_numpy(prepared.batch(indices[start:start + batch_size])).to(device)
        with torch.autocast(device_type=device.type, enabled=device.type == "cuda"):
            logits = model(x)
        out.append(torch.sigmoid(logits.float()).cpu().numpy())
    if not out:
        return np.zeros((0, len(CLASSES), 0, 0), dtype=np.float32)
    return np.concatenate(out)


def _nan_to_none(v: float):
    return None if isinstance(v, float) and math.isnan(v) else v


def score_maps(maps: np.ndarray, entries, stride: int,
               suppression_radius: int = DEFAULT_SUPPRESSION_RADIUS) -> dict:
    """Metrics of maps [N, 2, h, w] against entries' expert boxes (input pixels)."""
    result: dict = {"images": len(entries), "frocRates": list(FROC_RATES),
                    "suppressionRadius": suppression_radius, "stride": stride}
    for c, cls in enumerate(CLASSES):
        labels = [has_class(e, cls) for e in entries]
        scores = maps[:, c].reshape(len(entries), -1).max(axis=1) if len(entries) else np.zeros(0)
        boxes = [[[v / stride for v in box] for k, box in e.boxes if k == cls] for e in entries]
        fr = froc([maps[n, c] for n in range(len(entries))], boxes, suppression_radius)
        result[cls] = {
            "auroc": _nan_to_none(auroc(scores, labels)),
            "froc": _nan_to_none(fr.score),
            "frocSensitivities": [_nan_to_none(s) for s in fr.sensitivities],
            "positives": int(sum(labels)),
            "boxes": fr.total_boxes,
        }
    return result


def evaluate_model(model: torch.nn.Module, prepared: Prepared, device: torch.device,
                   split: str = "region-test", stride: int = 4,
                   suppression_radius: int = DEFAULT_SUPPRESSION_RADIUS) -> dict:
    entries = prepared.split(split)
    maps = predict(model, prepared, [e.i for e in entries], device)
    out = score_maps(maps, entries, stride, suppression_radius)
    out["split"] = split
    return out


def summary_line(metrics: dict) -> str:
    def f(v):
        return "n/a" if v is None else f"{v:.4f}"
    return "  ".join(f"{cls}: AUROC {f(metrics[cls]['auroc'])} FROC {f(metrics[cls]['froc'])}" for cls in CLASSES)
