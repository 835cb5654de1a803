#!/usr/bin/python3
"""The paper's ablation on our own data: train the teacher on the region-labelled set D_R, then
students on D_R + record-labelled images with each target method (none, symmetric, asymmetric,
AALS) for several seeds, and print one table of AUROC and FROC per class (mean ± sample standard
deviation over seeds) on the held-out region-labelled set (region-test).

It also prints how far the teacher is biased low on record-positive images (the paper's premise).
Run on a prepared cohort:  /usr/bin/python3 bench/ablation.py --prepared var/ablation/prepared
(bench/ablation synthesises and prepares the cohort first). --toy runs it on a toy cohort."""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "services", "distiller"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from distiller import CLASSES  # noqa: E402
from distiller.data import has_class, load_prepared  # noqa: E402
from distiller.evaluate import evaluate_model, predict  # noqa: E402
from distiller.model import load_checkpoint  # noqa: E402
from distiller.targets import METHODS  # noqa: E402
from distiller.train import TrainOptions, pick_device, run_training  # noqa: E402


def teacher_bias(teacher_ckpt: Path, prepared_dir: str, device) -> dict:
    """Mean teacher map maximum on record-positive vs record-negative images, and on truly
    positive region-test images, per class; and the share of record positives with max < 0.5."""
    prepared = load_prepared(prepared_dir)
    teacher, _ = load_checkpoint(teacher_ckpt, map_location=device)
    teacher.to(device)
    rec = prepared.split("record")
    test = prepared.split("region-test")
    rec_max = predict(teacher, prepared, [e.i for e in rec], device).max(axis=(2, 3)) if rec else np.zeros((0, 2))
    test_max = predict(teacher, prepared, [e.i for e in test], device).max(axis=(2, 3)) if test else np.zeros((0, 2))
    out = {}
    for c, cls in enumerate(CLASSES):
        pos = np.array([e.record.get(cls) == "positive" for e in rec], bool)
        neg = np.array([e.record.get(cls) == "negative" for e in rec], bool)
        tpos = np.array([has_class(e, cls) for e in test], bool)
        out[cls] = {
            "recordPositives": int(pos.sum()), "recordNegatives": int(neg.sum()),
            "prevalence": float(pos.sum() / max(1, pos.sum() + neg.sum())),
            "meanMaxOnRecordPositives": float(rec_max[pos, c].mean()) if pos.any() else None,
            "meanMaxOnRecordNegatives": float(rec_max[neg, c].mean()) if neg.any() else None,
            "shareOfRecordPositivesBelow0.5": float((rec_max[pos, c] < 0.5).mean()) if pos.any() else None,
            "meanMaxOnTestPositives": float(test_max[tpos, c].mean()) if tpos.any() else None,
        }
    return out


def fmt(values):
    vals = [v for v in values if v is not None]
    if not vals:
        return "n/a"
    if len(vals) == 1:
        return f"{vals[0]:.3f}"
    return f"{statistics.mean(vals):.3f} ± {statistics.stdev(vals):.3f}"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--prepared", help="prepared cohort directory")
    p.add_argument("--toy", action="store_true", help="use a generated toy cohort (smoke test of this script)")
    p.add_argument("--out", default="var/ablation/runs", help="run directories and results.json")
    p.add_argument("--model", default="cpu")
    p.add_argument("--teacher-epochs", type=int, default=20)
    p.add_argument("--student-epochs", type=int, default=6)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--methods", default=",".join(METHODS))
    p.add_argument("--teacher", help="reuse this teacher checkpoint instead of training one")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="auto")
    p.add_argument("--a0", type=float, default=4.0)
    p.add_argument("--t", type=float, help="sharpening centre for asymmetric and AALS (default 0.4)")
    p.add_argument("--init-from-teacher", action="store_true", help="students start from the teacher's weights")
    p.add_argument("--record-limit", type=int, default=0, help="use the first N record images (0 = all)")
    a = p.parse_args()
    if not a.prepared and not a.toy:
        p.error("give --prepared DIR (or --toy)")
    prepared = a.prepared
    if a.toy:
        from distiller.toy_cohort import write_toy_prepared
        prepared = str(write_toy_prepared(Path(tempfile.mkdtemp()) / "toy", count=160, size=64, seed=11,
                                          prevalence=0.3, contrast=0.35, splits=(0.25, 0.25)))
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    device = pick_device(a.device)
    seeds = [int(s) for s in a.seeds.split(",")]
    methods = a.methods.split(",")
    common = dict(prepared=prepared, model=a.model, batch_size=a.batch_size, lr=a.lr, threads=a.threads,
                  device=a.device)
    t0 = time.time()
    if a.teacher:
        # A teacher trained elsewhere: score it on this cohort's held-out set, like the students.
        teacher_ckpt = Path(a.teacher)
        t_model, _ = load_checkpoint(teacher_ckpt, map_location=device)
        teacher_info = {"metrics": evaluate_model(t_model.to(device), load_prepared(prepared), device)}
    else:
        teacher_info = run_training(TrainOptions(mode="supervised", out=str(out / "teacher"), seed=0,
                                                 epochs=a.teacher_epochs, version="ablation-teacher", **common))
        teacher_ckpt = out / "teacher" / "model.pt"
    bias = teacher_bias(teacher_ckpt, prepared, device)
    results = {"teacher": teacher_info["metrics"], "teacherBias": bias, "students": {}}
    for method in methods:
        for seed in seeds:
            info = run_training(TrainOptions(mode="distill", out=str(out / f"{method}-s{seed}"), seed=seed,
                                             epochs=a.student_epochs, teacher=str(teacher_ckpt), method=method,
                                             a0=a.a0, record_limit=a.record_limit,
                                             init_from_teacher=a.init_from_teacher,
                                             t=a.t if method in ("asymmetric", "aals") else None, version=f"ablation-{method}-s{seed}", **common))
            results["students"].setdefault(method, []).append(info["metrics"])
    results["seconds"] = time.time() - t0
    results["settings"] = {**vars(a), "prepared": prepared, "torch": torch.__version__, "device": str(device)}
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")

    lines = ["| method | seeds | rib AUROC | rib FROC | clavicle AUROC | clavicle FROC |", "|---|---|---|---|---|---|"]
    t = results["teacher"]
    lines.append(f"| teacher (supervised, D_R only) | 1 | {fmt([t['rib']['auroc']])} | {fmt([t['rib']['froc']])} | "
                 f"{fmt([t['clavicle']['auroc']])} | {fmt([t['clavicle']['froc']])} |")
    for method, runs in results["students"].items():
        cells = [fmt([r[c][k] for r in runs]) for c in CLASSES for k in ("auroc", "froc")]
        lines.append(f"| student, {method} | {len(runs)} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    (out / "table.md").write_text(table + "\n")
    print("\nTeacher bias on record-labelled images (map maximum):", file=sys.stderr)
    for cls, b in bias.items():
        print(f"  {cls}: " + json.dumps(b), file=sys.stderr)
    first = results["teacher"]
    print(f"\nHeld-out set: {first['images']} region-test images; FROC rates {first['frocRates']} FP/image; "
          f"suppression radius {first['suppressionRadius']} cells; ± is the sample standard deviation over seeds; "
          f"total {results['seconds'] / 60:.1f} min on {device} (torch {torch.__version__})\n", file=sys.stderr)
    print(table, file=sys.stderr)


if __name__ == "__main__":
    main()
