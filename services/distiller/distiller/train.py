"""Training: `supervised` (the teacher, on the region-labelled set D_R) and `distill` (the student,
on D_R with true box masks plus record-labelled images with targets per PAPER.md).

Loss: pixel-wise binary cross-entropy on logits, as in the paper, with an optional positive weight
(--pos-weight, default 1). We keep it unweighted by default on purpose: the paper's premise is that
a detector trained this way on rare positives is biased low, and AALS exists to correct that bias;
re-weighting or a focal loss would change the teacher the method is meant to improve, and would
make the ablation answer a different question.

Augmentation: random translation by whole output cells (so box masks move exactly with the image)
and mild gamma/contrast/brightness jitter. No horizontal flip by default: a flipped chest film is
anatomically implausible (the heart moves to the right) and would teach the model images it never
sees; findings carry a side in the reports. --hflip turns it on for experiments.
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from . import CLASSES
from .data import DataError, Prepared, box_mask, load_prepared
from .evaluate import evaluate_model, predict, summary_line
from .model import Detector, build_model, count_parameters, load_checkpoint, save_checkpoint
from .recipe import GROUPS, BalancedSampler, Recipe, ema_update, resolve_recipe, teacher_targets
from .targets import SharpenParams, params_for


@dataclass
class TrainOptions:
    mode: str  # supervised | pretrain (stage 1: D_R + record negatives) | distill (stage 1 + 2)
    prepared: str | None  # a prepared folder, or None: the database and the training store (snapshot.py)
    out: str
    model: str = "cpu"
    epochs: int = 10
    batch_size: int = 16
    lr: float = 2e-3
    weight_decay: float = 1e-4
    seed: int = 0
    device: str = "auto"
    amp: bool = True  # mixed precision, only where it helps (CUDA)
    pos_weight: float = 1.0
    shift: int = 2  # max translation, in output cells
    hflip: bool = False
    jitter: bool = True
    threads: int = 0  # CPU threads (0 = torch's default)
    version: str | None = None
    parent_version: str | None = None
    # distill
    teacher: str | None = None  # checkpoint (.pt) of the teacher, run offline on the cohort
    init_from_teacher: bool = False  # start the student from the teacher's weights (short CPU runs)
    method: str = "aals"
    a0: float = 4.0
    a: float | None = None
    t: float | None = None
    eps: float = 1e-6
    database: str | None = None  # read targets from pseudo_labels instead of running a teacher
    teacher_version: str | None = None
    record_limit: int = 0  # use at most this many record images (0 = all)
    record_negatives: int = -1  # keep every image with a record positive, at most this many others (-1 = all)
    eval_split: str = "region-test"
    # the recipe (recipe.py): None / "auto" pick the defaults of resolve_recipe
    teacher_mode: str = "auto"  # ema | fixed | auto
    ema_momentum: float = 0.99
    pretrain_epochs: int | None = None
    sampling: str | None = None  # uniform | balanced | balanced:E:N:P
    steps: int = 0  # stage-2 (or supervised/pretrain) optimiser steps; 0 = epochs over the training set
    pretrain_steps: int = 0  # stage-1 steps; 0 = pretrain_epochs over the stage-1 set
    log_every: int = 0  # steps between progress lines (0 = per epoch only)
    # the database + training-store source (no prepared folder)
    store: str | None = None  # training store root URL (TRAINING_STORE_URL)
    watermark: str | None = None  # ISO 8601: pseudo-labels created up to this instant (the job's)
    input_size: int | None = None  # model input side (default: the teacher's input_size)


@dataclass
class TrainingSet:
    indices: np.ndarray  # prepared image indices
    targets: np.ndarray  # float32 [M, C, h, w]
    weights: np.ndarray  # float32 [M, C]: 0 excludes a class of an image from the loss
    counts: dict = field(default_factory=dict)
    groups: np.ndarray | None = None  # int [M]: index into recipe.GROUPS (exact, negative, positive)
    positive: np.ndarray | None = None  # bool [M, C]: a record-positive class (teacher-made target)

    def __post_init__(self):
        m = len(self.indices)
        if self.groups is None:
            self.groups = np.zeros(m, np.int64)
        if self.positive is None:
            self.positive = np.zeros((m, len(CLASSES)), bool)

    def subset(self, rows: np.ndarray) -> "TrainingSet":
        return TrainingSet(self.indices[rows], self.targets[rows], self.weights[rows], dict(self.counts),
                           self.groups[rows], self.positive[rows])


def log(event: str, **fields) -> None:
    """One JSON line on stdout per progress event (the harvester CLI streams it)."""
    print(json.dumps({"event": event, **fields}), flush=True)


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for but CUDA is not available to this PyTorch")
    return torch.device(name)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def region_set(prepared: Prepared, stride: int, allow_empty: bool = False) -> TrainingSet:
    entries = prepared.split("region-train")
    if not entries:
        if allow_empty:
            h = prepared.size // stride
            return TrainingSet(np.zeros(0, np.int64), np.zeros((0, len(CLASSES), h, h), np.float32),
                               np.zeros((0, len(CLASSES)), np.float32), {"regionTrain": 0})
        raise ValueError(f"{prepared.root} has no region-train images: nothing to learn from")
    targets = np.stack([box_mask(e.boxes, prepared.size, stride) for e in entries])
    counts = {"regionTrain": len(entries)}
    for c, cls in enumerate(CLASSES):
        counts[f"regionTrainPositive_{cls}"] = int((targets[:, c].reshape(len(entries), -1).max(1) > 0).sum())
    return TrainingSet(np.array([e.i for e in entries]), targets,
                       np.ones((len(entries), len(CLASSES)), np.float32), counts)


_teacher_maps: dict = {}
"""The last teacher's maps on the record images: students distilled from one teacher (the ablation)
reuse them instead of running the teacher again."""


def record_set(prepared: Prepared, stride: int, params: SharpenParams, teacher: Detector | None,
               device: torch.device, pseudo: dict | None, limit: int = 0,
               negatives: int = -1, compute_targets: bool = True) -> TrainingSet:
    """Record-labelled images: negatives all-zero; positives the teacher's map sharpened by
    `params` (or the stored pseudo-label); uncertain or missing labels get zero loss weight.
    `limit` keeps the first N record images; `negatives` >= 0 then keeps every image with a record
    positive and only the first N without one (a CPU-sized ablation with more positives).
    compute_targets=False (the EMA teacher makes the positives' targets during training) leaves
    the positives' targets at zero and needs no teacher."""
    entries = prepared.split("record")
    if limit:
        entries = entries[:limit]
    if negatives >= 0:
        others = [e for e in entries if "positive" not in e.record.values()][:negatives]
        keep_ids = {id(e) for e in others}
        entries = [e for e in entries if "positive" in e.record.values() or id(e) in keep_ids]
    h = w = prepared.size // stride
    maps = None
    if pseudo is None and compute_targets:
        needs_teacher = [n for n, e in enumerate(entries) if "positive" in e.record.values()]
        if needs_teacher and teacher is None:
            raise ValueError("distill needs --teacher CHECKPOINT (or --database with --teacher-version)")
        maps = np.zeros((len(entries), len(CLASSES), h, w), np.float32)
        if needs_teacher:
            key = (teacher, str(prepared.root), tuple(entries[n].i for n in needs_teacher))
            if key not in _teacher_maps:
                _teacher_maps.clear()
                _teacher_maps[key] = predict(teacher, prepared, [entries[n].i for n in needs_teacher], device)
            pred = _teacher_maps[key]
            if pred.shape[-2:] != (h, w):
                raise ValueError(f"teacher maps are {pred.shape[-2:]}, expected {(h, w)} (stride {stride})")
            maps[needs_teacher] = pred
    targets = np.zeros((len(entries), len(CLASSES), h, w), np.float32)
    weights = np.zeros((len(entries), len(CLASSES)), np.float32)
    positive = np.zeros((len(entries), len(CLASSES)), bool)
    counts = {"record": 0}
    for cls in CLASSES:
        counts.update({f"recordPositive_{cls}": 0, f"recordNegative_{cls}": 0, f"recordExcluded_{cls}": 0})
    keep = np.zeros(len(entries), bool)
    for n, e in enumerate(entries):
        for c, cls in enumerate(CLASSES):
            label = e.record.get(cls)
            if label == "negative":
                weights[n, c] = 1  # the target stays all-zero
                counts[f"recordNegative_{cls}"] += 1
            elif label == "positive":
                if pseudo is not None:
                    stored = pseudo.get((e.sop_instance_uid, cls))
                    if stored is None:
                        counts[f"recordExcluded_{cls}"] += 1
                        continue
                    if stored.shape != (h, w):
                        raise ValueError(f"pseudo-label of {e.sop_instance_uid}/{cls} is {stored.shape}, expected {(h, w)}")
                    if compute_targets:
                        targets[n, c] = stored
                weights[n, c] = 1
                positive[n, c] = True
                counts[f"recordPositive_{cls}"] += 1
            else:
                counts[f"recordExcluded_{cls}"] += 1
        keep[n] = weights[n].any()
    if maps is not None:
        # the teacher's maps sharpened once, by the function the EMA path calls per batch
        made = teacher_targets(maps, positive, params)
        targets[positive] = made[positive]
    counts["record"] = int(keep.sum())
    groups = np.where(positive.any(axis=1), GROUPS.index("positive"), GROUPS.index("negative"))
    return TrainingSet(np.array([e.i for e in entries], np.int64)[keep], targets[keep], weights[keep], counts,
                       groups[keep], positive[keep])


def concat(a: TrainingSet, b: TrainingSet) -> TrainingSet:
    return TrainingSet(np.concatenate([a.indices, b.indices]), np.concatenate([a.targets, b.targets]),
                       np.concatenate([a.weights, b.weights]), {**a.counts, **b.counts},
                       np.concatenate([a.groups, b.groups]), np.concatenate([a.positive, b.positive]))


def augment(x: torch.Tensor, y: torch.Tensor, stride: int, opts: TrainOptions,
            gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """x [B,1,H,W] in [0,1], y [B,C,h,w]; the same geometric change for both."""
    b = x.shape[0]
    if opts.shift > 0:
        s = opts.shift
        xp = F.pad(x, (s * stride,) * 4, mode="replicate")
        yp = F.pad(y, (s,) * 4)
        shifts = torch.randint(0, 2 * s + 1, (b, 2), generator=gen).tolist()
        H, W = x.shape[-2:]
        h, w = y.shape[-2:]
        x = torch.stack([xp[k, :, dy * stride:dy * stride + H, dx * stride:dx * stride + W]
                         for k, (dy, dx) in enumerate(shifts)])
        y = torch.stack([yp[k, :, dy:dy + h, dx:dx + w] for k, (dy, dx) in enumerate(shifts)])
    if opts.hflip:
        flip = (torch.rand(b, generator=gen) < 0.5).to(x.device)
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
        y = torch.where(flip[:, None, None, None], y.flip(-1), y)
    if opts.jitter:
        r = torch.rand(b, 3, generator=gen).to(x.device)
        gamma = torch.exp((r[:, 0] - 0.5) * 0.4)[:, None, None, None]
        contrast = (0.9 + 0.2 * r[:, 1])[:, None, None, None]
        bright = ((r[:, 2] - 0.5) * 0.1)[:, None, None, None]
        x = x.clamp(1e-6, 1).pow(gamma)
        mean = x.mean(dim=(2, 3), keepdim=True)
        x = ((x - mean) * contrast + mean + bright).clamp(0, 1)
    return x, y


def _grad_scaler(enabled: bool):
    if hasattr(torch, "amp") and hasattr(torch.amp, "GradScaler"):  # torch >= 2.3
        return torch.amp.GradScaler("cuda", enabled=enabled)
    return torch.cuda.amp.GradScaler(enabled=enabled)  # torch 1.13


@dataclass
class EmaTeacher:
    """Stage 2 with a teacher that learns with the student (recipe.py): the teacher's weights are
    the EMA of the student's, and each batch's record-positive targets are its maps, sharpened."""

    model: Detector
    momentum: float
    params: SharpenParams


def batch_targets(teacher: Detector, x: torch.Tensor, positive: np.ndarray, params: SharpenParams,
                  use_amp: bool = False) -> np.ndarray:
    """The EMA path's targets for a batch x [B,1,H,W]: the teacher's maps, sharpened where the
    record says positive (recipe.teacher_targets, as the fixed-teacher path)."""
    teacher.eval()
    with torch.no_grad(), torch.autocast(device_type=x.device.type, enabled=use_amp):
        maps = torch.sigmoid(teacher(x).float()).cpu().numpy()
    return teacher_targets(maps, positive, params)


def fit(model: Detector, data: TrainingSet, prepared: Prepared, opts: TrainOptions,
        device: torch.device, epochs: int | None = None, steps: int = 0,
        mix: tuple[float, float, float] | None = None, ema: EmaTeacher | None = None) -> dict:
    """Trains in place; returns a summary (loss per epoch, images/s). An epoch is
    ceil(images / batch size) steps; `steps` > 0 sets the total instead. mix None: each epoch one
    random permutation of the set (uniform); else batches from recipe.BalancedSampler."""
    epochs = opts.epochs if epochs is None else epochs
    stride = model.config.stride
    gen = torch.Generator().manual_seed(opts.seed)
    rng = np.random.default_rng(opts.seed)
    # The whole training set lives on the device as uint8: no loader, no per-step copies.
    images = torch.from_numpy(np.ascontiguousarray(prepared.images[np.sort(data.indices)])).to(device)
    order_of = {int(i): k for k, i in enumerate(np.sort(data.indices))}
    img_rows = torch.tensor([order_of[int(i)] for i in data.indices], device=device)
    targets = torch.from_numpy(data.targets).to(device)
    weights = torch.from_numpy(data.weights).to(device)
    pos_weight = torch.full((len(CLASSES), 1, 1), opts.pos_weight, device=device)
    use_amp = opts.amp and device.type == "cuda"
    scaler = _grad_scaler(use_amp)
    optim = torch.optim.Adam(model.parameters(), lr=opts.lr, weight_decay=opts.weight_decay)
    n = len(data.indices)
    steps_per_epoch = max(1, math.ceil(n / opts.batch_size))
    total = steps if steps > 0 else steps_per_epoch * epochs
    epochs = math.ceil(total / steps_per_epoch)
    warmup = min(100, total // 10)
    sampler = BalancedSampler(data.groups, mix, opts.batch_size, rng) if mix is not None else None

    def lr_at(step: int) -> float:  # linear warm-up, then cosine down to 5%
        if step < warmup:
            return opts.lr * (step + 1) / warmup
        p = (step - warmup) / max(1, total - warmup)
        return opts.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * p)))

    history = []
    step = 0
    t_start = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        perm = rng.permutation(n) if sampler is None else None
        t0 = time.perf_counter()
        loss_sum, seen = 0.0, 0
        for b in range(min(steps_per_epoch, total - step)):
            rows = perm[b * opts.batch_size:(b + 1) * opts.batch_size] if sampler is None else sampler.next_batch()
            sel = torch.from_numpy(rows).to(device)
            x = images[img_rows[sel]].unsqueeze(1).float() / 255.0
            y, wt = targets[sel], weights[sel]
            x, y = augment(x, y, stride, opts, gen)
            if ema is not None:
                pos = data.positive[rows]
                if pos.any():
                    made = torch.from_numpy(batch_targets(ema.model, x, pos, ema.params, use_amp)).to(device)
                    y = torch.where(torch.from_numpy(pos).to(device)[:, :, None, None], made, y)
            for g in optim.param_groups:
                g["lr"] = lr_at(step)
            with torch.autocast(device_type=device.type, enabled=use_amp):
                logits = model(x)
            per_pixel = F.binary_cross_entropy_with_logits(logits.float(), y, reduction="none",
                                                           pos_weight=pos_weight)
            w = wt[:, :, None, None].expand_as(per_pixel)
            loss = (per_pixel * w).sum() / w.sum().clamp_min(1)
            optim.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optim)
            scaler.update()
            if ema is not None:
                ema_update(ema.model, model, ema.momentum)
            loss_sum += float(loss.detach()) * len(sel)
            seen += len(sel)
            step += 1
            if opts.log_every and step % opts.log_every == 0:
                log("step", step=step, of=total, loss=round(float(loss.detach()), 5))
        if device.type == "cuda":
            torch.cuda.synchronize()
        dt = time.perf_counter() - t0
        history.append({"epoch": epoch + 1, "loss": loss_sum / max(1, seen), "imagesPerSecond": seen / dt})
        log("epoch", epoch=epoch + 1, of=epochs, loss=round(loss_sum / max(1, seen), 5),
            images_per_s=round(seen / dt, 1), lr=round(lr_at(step - 1), 6))
    elapsed = time.perf_counter() - t_start
    return {"history": history, "seconds": elapsed, "steps": step,
            "imagesPerSecond": (step and sum(h["imagesPerSecond"] for h in history) / len(history))}


_teachers: dict = {}


def _load_teacher(path: str, device: torch.device):
    """Loads a teacher checkpoint once per (file, modification time, device)."""
    key = (str(Path(path).resolve()), Path(path).stat().st_mtime_ns, str(device))
    if key not in _teachers:
        _teachers.clear()
        teacher, ckpt = load_checkpoint(path, map_location=device)
        _teachers[key] = (teacher.to(device), ckpt)
    return _teachers[key]


def _init_from(model: Detector, teacher: Detector) -> None:
    """Copies the teacher's weights into the student (--init-from-teacher)."""
    if teacher.config != model.config:
        raise ValueError(f"--init-from-teacher needs the teacher's configuration "
                         f"({teacher.config.name}), not --model {model.config.name}")
    model.load_state_dict({k: v.detach().cpu() for k, v in teacher.state_dict().items()})


def _training_source(opts: TrainOptions):
    """The prepared folder, or the database + training store snapshot (with its summary logged)."""
    if opts.prepared:
        return load_prepared(opts.prepared), None
    if not (opts.database and opts.store):
        raise ValueError("give --prepared DIR, or --database URL with --store URL (the training store)")
    from datetime import datetime
    from .snapshot import load_snapshot
    distill = opts.mode == "distill"
    if distill and not opts.teacher_version:
        raise ValueError("distill from the database needs --teacher-version (the pseudo-labels to learn)")
    watermark = datetime.fromisoformat(opts.watermark.replace("Z", "+00:00")) if opts.watermark else None
    snapshot = load_snapshot(opts.database, opts.store, opts.teacher_version if distill else None, watermark,
                             opts.input_size, with_pseudo_labels=distill)
    log("snapshot", **snapshot.summary)
    return snapshot.prepared, snapshot


def _stage1_set(region: TrainingSet, record: TrainingSet) -> TrainingSet:
    """Stage 1 of the recipe: D_R with its true masks and the record images with no positive class
    (all-zero targets; a class excluded as uncertain keeps zero weight)."""
    return concat(region, record.subset(np.flatnonzero(record.groups == GROUPS.index("negative"))))


def _stage1_mix(mix):
    return None if mix is None else (mix[0], mix[1], 0.0)


def run_training(opts: TrainOptions) -> dict:
    """Builds the training set for the mode, trains, evaluates on the held-out split and writes
    model.pt, metrics.json and train.json into opts.out. Returns the summary.
    supervised: D_R only (the teacher as before); pretrain: stage 1 of the recipe (D_R + record
    negatives); distill: stage 1 (unless started from a teacher's weights) then stage 2 with a
    fixed or EMA teacher (recipe.py)."""
    if opts.mode not in ("supervised", "pretrain", "distill"):
        raise ValueError(f"unknown mode {opts.mode!r}")
    if opts.threads:
        torch.set_num_threads(opts.threads)
    device = pick_device(opts.device)
    seed_everything(opts.seed)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    prepared, snapshot = _training_source(opts)
    model = build_model(opts.model)
    stride = model.config.stride
    if prepared.size % 16:
        raise ValueError(f"the prepared size {prepared.size} must be a multiple of 16")
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    prefix = {"supervised": "teacher", "pretrain": "pretrained"}.get(opts.mode, "student-" + opts.method)
    version = opts.version or f"{prefix}-s{opts.seed}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"

    # from the database, D_R may still be empty while pseudo-labels are not: the stored targets teach
    data = region_set(prepared, stride, allow_empty=snapshot is not None and opts.mode == "distill")
    params = None
    plan: Recipe | None = None
    stage1 = None
    ema = None
    parent = opts.parent_version
    mix = None
    if opts.mode == "pretrain":
        mix = _stage1_mix(resolve_recipe("fixed", False, opts.epochs, 0, False, opts.sampling, opts.ema_momentum).mix)
        record = record_set(prepared, stride, params_for("none"), None, device, None, opts.record_limit,
                            opts.record_negatives, compute_targets=False)
        data = _stage1_set(data, record)
    if opts.mode == "distill":
        params = params_for(opts.method, a0=opts.a0, a=opts.a, eps=opts.eps, t=opts.t)
        teacher, pseudo = None, None
        if snapshot is not None:
            pseudo = snapshot.pseudo
            parent = parent or opts.teacher_version
        elif opts.database:
            if not opts.teacher_version:
                raise ValueError("--database needs --teacher-version (the pseudo_labels.model_version to read)")
            from .pseudo_labels import load_pseudo_labels
            uids = [e.sop_instance_uid for e in prepared.split("record")]
            pseudo = load_pseudo_labels(opts.database, opts.teacher_version, uids)
            log("pseudo_labels", version=opts.teacher_version, maps=len(pseudo))
            parent = parent or opts.teacher_version
        plan = resolve_recipe(opts.teacher_mode, pseudo is not None, opts.epochs, opts.pretrain_epochs,
                                opts.init_from_teacher, opts.sampling, opts.ema_momentum, bool(opts.teacher))
        mix = plan.mix
        pretraining = plan.pretrain_epochs > 0 or opts.pretrain_steps > 0
        if opts.teacher:
            if not Path(opts.teacher).is_file():
                raise FileNotFoundError(f"teacher checkpoint {opts.teacher} does not exist")
            teacher, ckpt = _load_teacher(opts.teacher, device)
            parent = parent or ckpt.get("version")
        if opts.init_from_teacher:
            if teacher is None:
                raise ValueError("--init-from-teacher needs --teacher CHECKPOINT (the weights to start from)")
            _init_from(model, teacher)
        stored = pseudo is not None and plan.teacher_mode == "fixed"
        if plan.teacher_mode == "fixed" and not stored and teacher is None and not pretraining:
            raise ValueError("distill --teacher-mode fixed needs --teacher CHECKPOINT (or --database with "
                             "--teacher-version, or --pretrain-epochs N: the stage-1 model is then the teacher)")
        if plan.teacher_mode == "ema" and teacher is not None and not opts.init_from_teacher:
            raise ValueError("with --teacher-mode ema the teacher is the average of the student: a --teacher "
                             "checkpoint only gives the starting weights, with --init-from-teacher "
                             "(or use --teacher-mode fixed to learn that checkpoint's maps)")
        if plan.teacher_mode == "ema" and not pretraining and not opts.init_from_teacher:
            raise ValueError("distill --teacher-mode ema needs a pre-trained start: --pretrain-epochs N (stage 1), "
                             "or --teacher CHECKPOINT with --init-from-teacher")
        # which classes are record-positive, before any teacher has run
        record = record_set(prepared, stride, params, None, device, pseudo if stored else None,
                            opts.record_limit, opts.record_negatives, compute_targets=False)
        if pretraining:
            stage1_data = _stage1_set(data, record)
            log("stage", stage=1, images=len(stage1_data.indices), sampling=plan.sampling)
            model.to(device)
            stage1 = fit(model, stage1_data, prepared, opts, device, epochs=plan.pretrain_epochs,
                         steps=opts.pretrain_steps, mix=_stage1_mix(mix))
        if plan.teacher_mode == "ema":
            ema_model = build_model(opts.model)
            ema_model.load_state_dict(model.state_dict())
            ema = EmaTeacher(ema_model.to(device).eval(), plan.ema_momentum, params)
        else:
            if stored:
                record = record_set(prepared, stride, params, None, device, pseudo, opts.record_limit,
                                    opts.record_negatives)
            else:
                if teacher is None:  # the pre-trained model makes the targets once and stays fixed
                    teacher = build_model(opts.model)
                    teacher.load_state_dict(model.state_dict())
                    teacher.to(device).eval()
                record = record_set(prepared, stride, params, teacher, device, None, opts.record_limit,
                                    opts.record_negatives)
        data = concat(data, record)
        log("stage", stage=2, teacher_mode=plan.teacher_mode, sampling=plan.sampling,
            ema_momentum=plan.ema_momentum if ema else None)
    if len(data.indices) == 0:
        raise DataError("nothing to train on: no region-train image and no usable pseudo-label")
    log("start", mode=opts.mode, version=version, device=str(device), model=opts.model,
        parameters=count_parameters(model), images=len(data.indices), counts=data.counts,
        method=params.method if params else None, torch=torch.__version__, threads=torch.get_num_threads())
    model.to(device)
    summary = fit(model, data, prepared, opts, device, steps=opts.steps, mix=mix, ema=ema)
    if stage1 is not None:
        summary["stage1"] = stage1
    metrics = None
    if prepared.split(opts.eval_split):
        metrics = evaluate_model(model, prepared, device, split=opts.eval_split, stride=stride)
        log("evaluated", split=opts.eval_split,
            metrics={c: {k: metrics[c][k] for k in ("auroc", "froc")} for c in CLASSES})
        print(summary_line(metrics), file=sys.stderr)
    else:
        log("not_evaluated", split=opts.eval_split, reason=f"no {opts.eval_split} images")
    model.cpu()
    recipe = {k: v for k, v in asdict(opts).items() if k not in ("database", "out")}
    info = {"version": version, "parentVersion": parent, "mode": opts.mode, "recipe": recipe,
            "sharpen": params.to_dict() if params else None, "counts": data.counts,
            "trainingRecipe": plan.to_dict() if plan else ({"sampling": "uniform" if mix is None else
                                                                "balanced " + ":".join(f"{m:g}" for m in mix)}
                                                               if opts.mode == "pretrain" else None),
            "snapshot": snapshot.summary if snapshot is not None else None,
            "inputSize": prepared.size, "stride": stride, "classes": list(CLASSES),
            "metrics": metrics, "training": summary, "torch": torch.__version__}
    save_checkpoint(out / "model.pt", model, {"version": version, "info": info})
    if ema is not None:  # the teacher at the end of stage 2 (analyses of how far it sharpened)
        save_checkpoint(out / "ema-teacher.pt", ema.model.cpu(), {"version": version + "-ema", "info": info})
    if metrics is not None:
        (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    (out / "train.json").write_text(json.dumps(info, indent=2) + "\n")
    log("done", version=version, out=str(out), seconds=round(summary["seconds"], 1))
    return info
