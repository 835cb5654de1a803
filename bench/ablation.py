#!/usr/bin/python3
"""The paper's ablation on our own data: train the teacher on the region-labelled set D_R, then
students on D_R + record-labelled images with each target method (none, symmetric, asymmetric,
AALS) for several seeds, and print one table of AUROC and FROC per class (mean ± sample standard
deviation over seeds) on the held-out region-labelled set (region-test).

It also prints how far the teacher is biased low on record-positive images (the paper's premise,
with a histogram of its per-image map maxima), how much of the students' training signal the
sharpening changes, and a paired bootstrap (over held-out images) of each method's AUROC minus that
of `none`. --report-only adds these analyses to an existing --out without training.
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
from distiller.data import box_mask, has_class, load_prepared  # noqa: E402
from distiller.evaluate import evaluate_model, predict  # noqa: E402
from distiller.metrics import auroc  # noqa: E402
from distiller.model import load_checkpoint  # noqa: E402
from distiller.targets import METHODS, params_for  # noqa: E402
from distiller.train import TrainOptions, pick_device, record_set, region_set, run_training  # noqa: E402


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
            # counts of per-image map maxima in [0, 0.1), [0.1, 0.2), ... [0.9, 1.0]
            "peakHistogramRecordPositives": np.histogram(rec_max[pos, c], PEAK_BINS)[0].tolist(),
            "peakHistogramRecordNegatives": np.histogram(rec_max[neg, c], PEAK_BINS)[0].tolist(),
        }
    return out


PEAK_BINS = np.linspace(0, 1, 11)


def target_signal(teacher_ckpt: Path, prepared_dir: str, device, methods, a) -> dict:
    """How much of the student's training signal the sharpening changes, per method and class.
    Students start from the teacher, so at step 0 the prediction p is the teacher's map y and the
    BCE gradient on a logit is p - target: with target = y (method none) a record-positive pixel
    gives no gradient at all; a sharpened pixel gives y - S(y). Reported: pixels raised per
    record-positive map, their share of all weighted training pixels, and their share of the
    step-0 loss and of the step-0 summed |gradient| over the whole training set (D_R + record)."""
    prepared = load_prepared(prepared_dir)
    teacher, _ = load_checkpoint(teacher_ckpt, map_location=device)
    teacher.to(device)
    stride = teacher.config.stride
    region = region_set(prepared, stride)
    p_region = predict(teacher, prepared, list(region.indices), device)
    out = {}
    for method in methods:
        params = params_for(method, a0=a.a0, t=a.t if method in ("asymmetric", "aals") else None)
        rec = record_set(prepared, stride, params, teacher, device, None, a.record_limit, a.record_negatives)
        p_rec = predict(teacher, prepared, list(rec.indices), device)
        y = record_set(prepared, stride, params_for("none"), teacher, device, None, a.record_limit,
                       a.record_negatives).targets
        out[method] = {}
        for c, cls in enumerate(CLASSES):
            def parts(p, tgt, w):
                pc = np.clip(p[:, c].astype(np.float64), 1e-7, 1 - 1e-7)
                t_ = tgt[:, c].astype(np.float64)
                ww = w[:, c][:, None, None]
                bce = -(t_ * np.log(pc) + (1 - t_) * np.log1p(-pc)) * ww
                return bce, np.abs(pc - t_) * ww
            bce_r, grad_r = parts(p_region, region.targets, region.weights)
            bce_i, grad_i = parts(p_rec, rec.targets, rec.weights)
            raised = (rec.targets[:, c] > y[:, c] + 1e-7) & (rec.weights[:, c][:, None, None] > 0)
            # The synthetic cohort knows where the fractures really are (truthBoxes): are the raised
            # pixels real fracture pixels?
            truth = np.stack([box_mask([b for b in prepared.entries[i].truth_boxes if b[0] == CLASSES[c]],
                                       prepared.size, stride)[c] > 0 for i in rec.indices])
            n_pos = int(sum(1 for i in rec.indices if prepared.entries[i].record.get(CLASSES[c]) == "positive"))
            pixels = float(region.weights[:, c].sum() + rec.weights[:, c].sum()) * raised[0].size
            out[method][cls] = {
                "pixelsRaisedPerPositiveMap": float(raised.sum() / max(1, n_pos)),
                "shareOfTrainingPixels": float(raised.sum() / pixels),
                "shareOfStep0Loss": float(bce_i[raised].sum() / (bce_r.sum() + bce_i.sum())),
                "shareOfStep0AbsGradient": float(grad_i[raised].sum() / (grad_r.sum() + grad_i.sum())),
                "shareOfRaisedPixelsInTrueBoxes": float((raised & truth).sum() / raised.sum()) if raised.any() else None,
            }
    return out


def image_scores(ckpt: Path, prepared, entries, device) -> np.ndarray:
    model, _ = load_checkpoint(ckpt, map_location=device)
    return predict(model.to(device), prepared, [e.i for e in entries], device).max(axis=(2, 3))


def paired_bootstrap(out: Path, prepared_dir: str, methods, seeds, device, reference="none",
                     resamples=1000, seed=0) -> dict:
    """AUROC difference (mean over seeds) of each method minus `reference`, with a paired bootstrap
    over the held-out images (the same resampled images for both): mean, 95% interval, and the share
    of resamples where the method is not better. Also the spread of one method's AUROC over seeds."""
    prepared = load_prepared(prepared_dir)
    entries = prepared.split("region-test")
    labels = np.array([[has_class(e, cls) for cls in CLASSES] for e in entries])
    scores = {m: [image_scores(out / f"{m}-s{s}" / "model.pt", prepared, entries, device) for s in seeds]
              for m in methods}
    rng = np.random.default_rng(seed)
    draws = [rng.integers(0, len(entries), len(entries)) for _ in range(resamples)]
    result = {}
    for c, cls in enumerate(CLASSES):
        def seed_mean_auroc(m, idx):
            return float(np.mean([auroc(sc[idx, c], labels[idx, c]) for sc in scores[m]]))
        ref = np.array([seed_mean_auroc(reference, d) for d in draws])
        for m in methods:
            if m == reference:
                continue
            diff = np.array([seed_mean_auroc(m, d) for d in draws]) - ref
            full = seed_mean_auroc(m, np.arange(len(entries))) - seed_mean_auroc(reference, np.arange(len(entries)))
            result.setdefault(cls, {})[f"{m}-{reference}"] = {
                "difference": full, "ci95": [float(np.quantile(diff, 0.025)), float(np.quantile(diff, 0.975))],
                "shareNotBetter": float((diff <= 0).mean())}
    return result


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
    p.add_argument("--record-negatives", type=int, default=-1,
                   help="keep every record-positive image and only the first N others (-1 = all)")
    p.add_argument("--bootstrap", type=int, default=1000,
                   help="paired bootstrap resamples of the held-out set for AUROC differences vs none (0 = skip)")
    p.add_argument("--report-only", action="store_true",
                   help="train nothing: reuse --out's results.json and student checkpoints, add the analyses")
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
    if a.report_only:
        results = json.loads((out / "results.json").read_text())
        for k in ("record_limit", "record_negatives", "a0", "t", "seeds"):  # as the runs were trained
            setattr(a, k, results["settings"].get(k, getattr(a, k)))
        seeds = [int(s) for s in a.seeds.split(",")]
        teacher_ckpt = Path(a.teacher) if a.teacher else out / "teacher" / "model.pt"
        methods = list(results["students"])
    else:
        if a.teacher:
            # A teacher trained elsewhere: score it on this cohort's held-out set, like the students.
            teacher_ckpt = Path(a.teacher)
            t_model, _ = load_checkpoint(teacher_ckpt, map_location=device)
            teacher_info = {"metrics": evaluate_model(t_model.to(device), load_prepared(prepared), device)}
        else:
            teacher_info = run_training(TrainOptions(mode="supervised", out=str(out / "teacher"), seed=0,
                                                     epochs=a.teacher_epochs, version="ablation-teacher", **common))
            teacher_ckpt = out / "teacher" / "model.pt"
        results = {"teacher": teacher_info["metrics"], "students": {}}
        for method in methods:
            for seed in seeds:
                info = run_training(TrainOptions(
                    mode="distill", out=str(out / f"{method}-s{seed}"), seed=seed, epochs=a.student_epochs,
                    teacher=str(teacher_ckpt), method=method, a0=a.a0, record_limit=a.record_limit,
                    record_negatives=a.record_negatives, init_from_teacher=a.init_from_teacher,
                    t=a.t if method in ("asymmetric", "aals") else None, version=f"ablation-{method}-s{seed}",
                    **common))
                results["students"].setdefault(method, []).append(info["metrics"])
        results["seconds"] = time.time() - t0
        results["settings"] = {**vars(a), "prepared": prepared, "torch": torch.__version__, "device": str(device)}
    bias = results["teacherBias"] = teacher_bias(teacher_ckpt, prepared, device)
    results["targetSignal"] = target_signal(teacher_ckpt, prepared, device, methods, a)
    if a.bootstrap and "none" in methods:
        results["pairedBootstrap"] = paired_bootstrap(out, prepared, methods, seeds, device, resamples=a.bootstrap)
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
          + (f"total {results['seconds'] / 60:.1f} min " if results.get("seconds") else "")
          + f"on {device} (torch {torch.__version__})\n", file=sys.stderr)
    print(table, file=sys.stderr)
    print("\nShare of the students' training signal that the sharpening changes (step 0, students = teacher):",
          file=sys.stderr)
    for method, per in results["targetSignal"].items():
        print(f"  {method}: " + json.dumps(per), file=sys.stderr)
    for cls, per in results.get("pairedBootstrap", {}).items():
        for k, v in per.items():
            print(f"  AUROC {cls} {k}: {v['difference']:+.4f}, 95% paired-bootstrap interval "
                  f"[{v['ci95'][0]:+.4f}, {v['ci95'][1]:+.4f}], not better in {v['shareNotBetter']:.0%} of "
                  f"{a.bootstrap} resamples", file=sys.stderr)


if __name__ == "__main__":
    main()
