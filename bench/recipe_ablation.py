#!/usr/bin/python3
"""The paper's recipe, ablated (issue 19; npm run bench:ablation:recipe, bench/recipe-ablation-gpu).

Per seed: stage 1, supervised pre-training on D_R + the record-negative images (the arm
"pretrain"); then, from those weights, stage 2 for every arm:

  mean-teacher        EMA teacher, no sharpening (EMA none: targets = the averaged student's maps)
  fixed-<method>      the stage-1 model makes the targets once and stays fixed (what the streaming
                      system stores), method none / symmetric / asymmetric / aals
  ema-<method>        the teacher is the EMA of the student, maps recomputed and sharpened per batch
  ema-aals-a0=<a0>    the recipe with another AALS strength

Every arm of a seed starts from the same stage-1 weights and sees the same batches (same sampler
seed), so arms are paired by seed as well as by held-out image. Each model is scored once on the
held-out region-labelled set (region-test): AUROC and FROC per class; its image scores are kept
(scores.npz) for the statistics:

  * paired bootstrap over held-out images (seed-mean AUROC difference; evaluation noise only);
  * seed spread of the paired per-seed differences (training noise);
  * a two-level bootstrap (seeds with replacement, then images) for the 95% interval of a
    difference with both noises in it; and from the measured spreads, the held-out size at which
    a 0.02 AUROC difference would lie outside that interval with this many seeds.

--report-only recomputes the statistics from --out. Results: OUT/results.json, OUT/table.md."""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "services", "distiller"))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from distiller import CLASSES  # noqa: E402
from distiller.data import has_class, load_prepared  # noqa: E402
from distiller.evaluate import predict, score_maps  # noqa: E402
from distiller.metrics import auroc  # noqa: E402
from distiller.model import load_checkpoint  # noqa: E402
from distiller.train import TrainOptions, pick_device, run_training  # noqa: E402

ARMS = ["pretrain", "mean-teacher", "fixed-none", "fixed-symmetric", "fixed-asymmetric", "fixed-aals",
        "ema-asymmetric", "ema-aals", "ema-aals-a0=2", "ema-aals-a0=8"]
REFERENCES = ("pretrain", "mean-teacher")
T_975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228}


def arm_options(arm: str, a0: float, t: float | None) -> dict:
    """The distill options of an arm (every stage-2 arm starts from the stage-1 weights)."""
    if arm == "mean-teacher":
        return {"teacher_mode": "ema", "method": "none", "a0": a0}
    mode, _, rest = arm.partition("-")
    method, _, a0_text = rest.partition("-a0=")
    return {"teacher_mode": mode, "method": method, "a0": float(a0_text) if a0_text else a0,
            "t": t if method in ("asymmetric", "aals") else None}


def held_out(prepared):
    entries = prepared.split("region-test")
    labels = np.array([[has_class(e, c) for c in CLASSES] for e in entries], bool)
    return entries, labels


def score_model(ckpt: Path, prepared, entries, device) -> tuple[dict, np.ndarray]:
    model, _ = load_checkpoint(ckpt, map_location=device)
    maps = predict(model.to(device), prepared, [e.i for e in entries], device, batch_size=64)
    return score_maps(maps, entries, model.config.stride), maps.max(axis=(2, 3)).astype(np.float32)


def sharpening_reach(ckpt: Path, prepared, device, t: float, limit: int = 300) -> dict:
    """On record-positive images (first `limit`): mean map maximum of the model and the number of
    cells above t per positive map, per class (the cells max(S(y), y) raises)."""
    model, _ = load_checkpoint(ckpt, map_location=device)
    out = {}
    for c, cls in enumerate(CLASSES):
        idx = [e.i for e in prepared.split("record") if e.record.get(cls) == "positive"][:limit]
        if not idx:
            continue
        maps = predict(model.to(device), prepared, idx, device, batch_size=64)[:, c]
        out[cls] = {"images": len(idx), "meanPeak": float(maps.max(axis=(1, 2)).mean()),
                    "cellsAboveT": float((maps > t).sum(axis=(1, 2)).mean())}
    return out


def train_all(a, prepared_dir: str, out: Path, device) -> dict:
    prepared = load_prepared(prepared_dir)
    entries, _ = held_out(prepared)
    results_path = out / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {"models": {}}
    results["settings"] = {**vars(a), "prepared": prepared_dir, "torch": torch.__version__, "device": str(device),
                           "heldOut": len(entries)}
    common = dict(prepared=prepared_dir, model=a.model, batch_size=a.batch_size, lr=a.lr, threads=a.threads,
                  device=a.device, eval_split="none", sampling=a.sampling, amp=not a.no_amp, log_every=25)
    t_start = time.time()
    seeds = [int(s) for s in a.seeds.split(",")]
    for seed in seeds:
        for arm in a.arms.split(","):
            key = f"{arm}-s{seed}"
            run = out / key
            if key in results["models"] and (run / "model.pt").exists():
                continue
            t0 = time.time()
            pre_seed = seeds[0] if a.shared_pretrain or a.stage1 else seed
            pre = Path(a.stage1) if a.stage1 else out / f"pretrain-s{pre_seed}" / "model.pt"
            if arm == "pretrain" and pre_seed != seed:
                continue  # one stage-1 model for every seed (--shared-pretrain, --stage1)
            if arm == "pretrain" and a.stage1:  # a given checkpoint stands for stage 1: scored, not trained
                run.mkdir(parents=True, exist_ok=True)
                (run / "model.pt").write_bytes(pre.read_bytes())
                info = {"training": {"seconds": 0.0}, "trainingRecipe": None, "sharpen": None}
            elif arm == "pretrain":
                info = run_training(TrainOptions(mode="pretrain", out=str(run), seed=seed, steps=a.pretrain_steps,
                                                 version=key, **{**common, "lr": a.pretrain_lr or a.lr}))
            else:
                if not pre.exists():
                    raise SystemExit(f"{pre} is missing: the arm list must start with pretrain")
                info = run_training(TrainOptions(
                    mode="distill", out=str(run), seed=seed, steps=a.steps, teacher=str(pre), init_from_teacher=True,
                    pretrain_epochs=0, ema_momentum=a.ema_momentum, version=key, **common,
                    **arm_options(arm, a.a0, a.t)))
            metrics, scores = score_model(run / "model.pt", prepared, entries, device)
            np.save(run / "scores.npy", scores)
            results["models"][key] = {"arm": arm, "seed": seed, "metrics": metrics,
                                      "trainSeconds": info["training"]["seconds"],
                                      "seconds": time.time() - t0, "recipe": info.get("trainingRecipe"),
                                      "sharpen": info.get("sharpen")}
            print(json.dumps({"event": "arm_done", "model": key, "seconds": round(time.time() - t0, 1),
                              **{c: round(metrics[c]["auroc"], 4) for c in CLASSES}}), flush=True)
            results["seconds"] = results.get("seconds", 0) + (time.time() - t0)
            results_path.write_text(json.dumps(results, indent=2) + "\n")
    results["wallSeconds"] = time.time() - t_start
    results_path.write_text(json.dumps(results, indent=2) + "\n")
    return results


def fmt(values):
    vals = [v for v in values if v is not None]
    if not vals:
        return "n/a"
    if len(vals) == 1:
        return f"{vals[0]:.3f}"
    return f"{statistics.mean(vals):.3f} ± {statistics.stdev(vals):.3f}"


def statistics_of(a, out: Path, results: dict, labels: np.ndarray) -> dict:
    """Paired comparisons of every arm against each reference (AUROC, per class)."""
    models = results["models"]
    arms = [x for x in a.arms.split(",") if any(m["arm"] == x for m in models.values())]
    seeds = sorted({m["seed"] for m in models.values() if all(f"{x}-s{m['seed']}" in models for x in arms)})
    shared = results["settings"].get("shared_pretrain") or results["settings"].get("stage1")
    if shared:  # the one stage-1 model stands for every seed's start
        seeds = sorted({m["seed"] for m in models.values() if m["arm"] != "pretrain"
                        and all(f"{x}-s{m['seed']}" in models for x in arms if x != "pretrain")})
    first = min(m["seed"] for m in models.values() if m["arm"] == "pretrain")
    scores = {(x, s): np.load(out / f"{x}-s{first if (shared and x == 'pretrain') else s}" / "scores.npy")
              for x in arms for s in seeds}
    n = len(labels)
    rng = np.random.default_rng(0)
    img_draws = [rng.integers(0, n, n) for _ in range(a.bootstrap)]
    seed_draws = [rng.integers(0, len(seeds), len(seeds)) for _ in range(a.bootstrap)]
    per_seed = {(x, s, c): auroc(scores[(x, s)][:, c], labels[:, c]) for x in arms for s in seeds
                for c in range(len(CLASSES))}
    boot = {}  # (arm, class) -> [resample][seed] AUROC on the image draw
    for x in arms:
        for c in range(len(CLASSES)):
            boot[(x, c)] = np.array([[auroc(scores[(x, s)][d, c], labels[d, c]) for s in seeds] for d in img_draws])
    out_stats = {"seeds": seeds, "heldOut": n, "resamples": a.bootstrap, "comparisons": {}}
    for ref in REFERENCES:
        if ref not in arms:
            continue
        for x in arms:
            if x == ref:
                continue
            for c, cls in enumerate(CLASSES):
                d_seed = np.array([per_seed[(x, s, c)] - per_seed[(ref, s, c)] for s in seeds])
                diff_boot = boot[(x, c)] - boot[(ref, c)]  # [resample, seed]
                img_only = diff_boot.mean(axis=1)
                two_level = np.array([diff_boot[r, seed_draws[r]].mean() for r in range(a.bootstrap)])
                sd_img = float(img_only.std(ddof=1))  # of the seed-mean difference, at n images
                sd_seed = float(d_seed.std(ddof=1)) if len(seeds) > 1 else float("nan")
                k = len(seeds)
                half_t = T_975.get(k - 1, 1.96) * sd_seed / math.sqrt(k) if k > 1 else float("nan")
                # 95% half-width with S seeds and N images: 1.96 sqrt(sd_seed^2/S + sd_img^2 n/N).
                # The image part of the seed-mean difference shrinks as 1/N; the seed part does not.
                room = (0.02 / 1.96) ** 2 - sd_seed ** 2 / k
                n_needed = math.ceil(n * sd_img ** 2 / room) if room > 0 else None
                seeds_needed_inf_images = math.ceil(sd_seed ** 2 / (0.02 / 1.96) ** 2) if sd_seed == sd_seed else None
                out_stats["comparisons"][f"{cls}: {x} - {ref}"] = {
                    "difference": float(d_seed.mean()), "perSeed": d_seed.tolist(),
                    "imageBootstrapCi95": [float(np.quantile(img_only, 0.025)), float(np.quantile(img_only, 0.975))],
                    "twoLevelCi95": [float(np.quantile(two_level, 0.025)), float(np.quantile(two_level, 0.975))],
                    "seedTCi95": [float(d_seed.mean() - half_t), float(d_seed.mean() + half_t)],
                    "sdImageBootstrap": sd_img, "sdSeedDifference": sd_seed,
                    "heldOutNeededFor0.02": n_needed, "seedsNeededWithInfiniteHeldOut": seeds_needed_inf_images,
                    "shareNotBetter": float((two_level <= 0).mean())}
    return out_stats


def report(a, out: Path, device) -> None:
    results = json.loads((out / "results.json").read_text())
    prepared = load_prepared(results["settings"]["prepared"])
    _, labels = held_out(prepared)
    models = results["models"]
    lines = ["| arm | seeds | rib AUROC | rib FROC | clavicle AUROC | clavicle FROC |", "|---|---|---|---|---|---|"]
    for arm in a.arms.split(","):
        runs = [m["metrics"] for m in models.values() if m["arm"] == arm]
        if not runs:
            continue
        cells = [fmt([r[c][k] for r in runs]) for c in CLASSES for k in ("auroc", "froc")]
        lines.append(f"| {arm} | {len(runs)} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    stats = statistics_of(a, out, results, labels) if a.bootstrap else {}
    comp = ["| comparison | difference | per-seed SD | image-bootstrap 95% | seeds + images 95% | held-out for 0.02 |",
            "|---|---:|---:|---|---|---:|"]
    for name, v in stats.get("comparisons", {}).items():
        lo, hi = v["imageBootstrapCi95"]
        lo2, hi2 = v["twoLevelCi95"]
        need = v["heldOutNeededFor0.02"]
        comp.append(f"| {name} | {v['difference']:+.4f} | {v['sdSeedDifference']:.4f} | [{lo:+.4f}, {hi:+.4f}] | "
                    f"[{lo2:+.4f}, {hi2:+.4f}] | {need if need is not None else 'not with these seeds'} |")
    reach = {}
    if a.reach_seed is not None:
        t = a.t if a.t is not None else 0.4
        for arm in a.arms.split(","):
            run = out / f"{arm}-s{a.reach_seed}"
            if not (run / "model.pt").exists():
                continue
            reach[arm] = {"student": sharpening_reach(run / "model.pt", prepared, device, t)}
            if (run / "ema-teacher.pt").exists():
                reach[arm]["emaTeacher"] = sharpening_reach(run / "ema-teacher.pt", prepared, device, t)
    results["statistics"] = stats
    results["reach"] = reach
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (out / "table.md").write_text(table + "\n\n" + "\n".join(comp) + "\n")
    s = results["settings"]
    print(f"\nHeld-out: {labels.shape[0]} region-test images (rib-positive {int(labels[:, 0].sum())}, clavicle-positive "
          f"{int(labels[:, 1].sum())}); model {s['model']}, stage 1 {s['pretrain_steps']} steps, stage 2 {s['steps']} "
          f"steps, batch {s['batch_size']}, lr {s['lr']}, sampling {s['sampling']}, EMA momentum {s['ema_momentum']}; "
          f"± = sample SD over seeds; training+scoring {results.get('seconds', 0) / 60:.1f} min on {s['device']} "
          f"(torch {s['torch']})\n")
    print(table)
    print()
    print("\n".join(comp))
    if reach:
        print(f"\nOn record-positive images (seed {a.reach_seed}): mean map maximum / cells above t per positive map")
        for arm, r in reach.items():
            print(f"  {arm}: " + json.dumps(r))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--prepared", help="prepared cohort (harvester prepare)")
    p.add_argument("--out", default="var/recipe-ablation/runs")
    p.add_argument("--model", default="small")
    p.add_argument("--seeds", default="0,1,2,3,4")
    p.add_argument("--arms", default=",".join(ARMS))
    p.add_argument("--pretrain-steps", type=int, default=250)
    p.add_argument("--pretrain-lr", type=float, help="stage-1 learning rate (default --lr)")
    p.add_argument("--stage1", help="a checkpoint to use as the stage-1 model of every seed instead of training "
                   "one (e.g. models/teacher/model.pt: D_R only, no record negatives)")
    p.add_argument("--shared-pretrain", action="store_true",
                   help="one stage-1 model (the first seed's) is the start of every seed's stage 2; seeds then vary "
                   "stage 2 only (a CPU budget)")
    p.add_argument("--steps", type=int, default=60, help="stage-2 optimiser steps per arm")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--ema-momentum", type=float, default=0.95)
    p.add_argument("--sampling", default="balanced:1:1:2")
    p.add_argument("--a0", type=float, default=4.0)
    p.add_argument("--t", type=float, help="sharpening centre of asymmetric and AALS (default 0.4)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="auto")
    p.add_argument("--no-amp", action="store_true")
    p.add_argument("--bootstrap", type=int, default=1000)
    p.add_argument("--reach-seed", type=int, default=0, help="seed whose models the reach analysis reads")
    p.add_argument("--report-only", action="store_true")
    a = p.parse_args()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    device = pick_device(a.device)
    if not a.report_only:
        if not a.prepared:
            p.error("give --prepared DIR")
        if not a.arms.startswith("pretrain"):
            p.error("--arms must start with pretrain (every other arm starts from its weights)")
        train_all(a, a.prepared, out, device)
    report(a, out, device)


if __name__ == "__main__":
    main()
