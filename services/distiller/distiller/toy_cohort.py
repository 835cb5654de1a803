"""A toy prepared cohort (same files as `harvester prepare` writes) for tests and speed checks:
noisy background with faint structure; a rib 'fracture' is a bright blob, a clavicle one a bright
short bar. It proves the training learns without the synthetic hospital; it is not a CXR model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def _lesion(img: np.ndarray, cls: str, rng: np.random.Generator, size: int, contrast: float):
    r = max(3, size // 32)
    cx, cy = rng.integers(2 * r, size - 2 * r, size=2)
    yy, xx = np.mgrid[0:size, 0:size]
    if cls == "rib":
        blob = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * (r / 1.5) ** 2))
        box = [int(cx - r), int(cy - r), int(cx + r), int(cy + r)]
    else:
        blob = np.exp(-((xx - cx) ** 2 / (2 * (1.5 * r) ** 2) + (yy - cy) ** 2 / (2 * (r / 3) ** 2)))
        box = [int(cx - 2 * r), int(cy - r // 2 - 1), int(cx + 2 * r), int(cy + r // 2 + 1)]
    img += contrast * blob
    box = [max(0, box[0]), max(0, box[1]), min(size, box[2]), min(size, box[3])]
    return box


def write_toy_prepared(out: str | Path, count: int = 64, size: int = 64, seed: int = 0,
                       prevalence: float = 0.4, contrast: float = 0.5,
                       splits: tuple[float, float] = (0.4, 0.2)) -> Path:
    """Writes meta.json, images.u8, index.jsonl. splits = (region-train, region-test) fractions;
    the rest is 'record' (record labels = truth)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    images = np.zeros((count, size, size), dtype=np.uint8)
    n_train = int(count * splits[0])
    n_test = int(count * splits[1])
    with (out / "index.jsonl").open("w") as idx:
        for i in range(count):
            yy, xx = np.mgrid[0:size, 0:size]
            img = 0.35 + 0.1 * np.sin(yy / size * 12 + rng.random() * 6) + rng.normal(0, 0.06, (size, size))
            boxes = []
            for cls in ("rib", "clavicle"):
                if rng.random() < prevalence:
                    boxes.append({"class": cls, "box": _lesion(img, cls, rng, size, contrast)})
            images[i] = np.clip(img * 255, 0, 255).astype(np.uint8)
            split = "region-train" if i < n_train else "region-test" if i < n_train + n_test else "record"
            record = {c: ("positive" if any(b["class"] == c for b in boxes) else "negative")
                      for c in ("rib", "clavicle")}
            idx.write(json.dumps({
                "i": i, "sopInstanceUid": f"1.2.826.0.1.{seed}.{i}", "accession": f"ACC{i:05d}",
                "split": split, "record": record,
                "boxes": boxes if split != "record" else [], "truthBoxes": boxes,
            }) + "\n")
    images.tofile(out / "images.u8")
    (out / "meta.json").write_text(json.dumps({
        "size": size, "count": count, "classes": ["rib", "clavicle"], "dtype": "uint8",
        "file": "images.u8", "preprocessing": {"toy": True, "seed": seed},
    }))
    return out
