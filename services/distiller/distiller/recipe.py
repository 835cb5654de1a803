"""The paper's training recipe, in pieces that train.py puts together (PAPER.md; issue 19).

  stage 1  supervised pre-training on the region-labelled images D_R (true box masks) and the
           record-negative images (all-zero targets);
  stage 2  from the stage-1 weights, D_R + record negatives + record positives, the positives'
           targets made by a teacher:
             fixed  the teacher's maps sharpened once, before training (or the targets the
                    pseudo-labeler stored in Postgres: what the streaming system harvests);
             ema    the teacher is the exponential moving average of the student, its maps
                    recomputed on every batch and sharpened with the same AALS code, so a student
                    that learns sharpened targets makes the teacher more confident.
  batches  balanced between the groups (exact D_R, record negatives, record positives) by a fixed
           mix, so that the scarce exact labels are not drowned by the pseudo-labelled majority.

Everything here is free of I/O; the EMA update and the sampler are unit-tested."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .targets import SharpenParams, positive_target

TEACHER_MODES = ("ema", "fixed")
GROUPS = ("exact", "negative", "positive")
"""Sampler groups: D_R images (exact masks), record images with no positive class (all-zero or
excluded targets), record images with at least one positive class (teacher-made targets)."""

DEFAULT_MIX = (1, 1, 2)
"""Default batch composition exact : negative : positive = 1 : 1 : 2 (a batch of 16 holds 4 D_R,
4 record-negative and 8 record-positive images). In the paper's proportions (D_R 1.2%, record
positives 9%, record negatives 90%) uniform batches would hold 0.2 D_R images; the mix gives the
exact labels a quarter of every batch and the pseudo-labelled positives, whose targets the
method under study changes, half of it."""


@dataclass(frozen=True)
class Recipe:
    """How a student is trained; stored with the model (model_versions, train.json)."""

    teacher_mode: str  # ema | fixed
    ema_momentum: float
    pretrain_epochs: int
    sampling: str  # "uniform" or "balanced e:n:p"
    mix: tuple[float, float, float] | None  # None for uniform

    def to_dict(self) -> dict:
        momentum = self.ema_momentum if self.teacher_mode == "ema" else None
        return {"teacherMode": self.teacher_mode, "emaMomentum": momentum,
                "pretrainEpochs": self.pretrain_epochs, "sampling": self.sampling}


def parse_sampling(value: str) -> tuple[float, float, float] | None:
    """'uniform' -> None; 'balanced' -> the default mix; 'balanced:1:1:2' or '1:1:2' -> that mix."""
    v = value.strip().lower()
    if v == "uniform":
        return None
    if v == "balanced":
        return tuple(float(x) for x in DEFAULT_MIX)
    parts = v.removeprefix("balanced:").split(":")
    try:
        mix = tuple(float(x) for x in parts)
    except ValueError:
        mix = ()
    if len(mix) != 3 or any(m < 0 for m in mix) or sum(mix) <= 0:
        raise ValueError(f"--sampling must be uniform, balanced or balanced:E:N:P with three "
                         f"non-negative weights (exact, negative, positive), got {value!r}")
    return mix


def resolve_recipe(teacher_mode: str, stored_targets: bool, epochs: int, pretrain_epochs: int | None,
                   init_from_teacher: bool, sampling: str | None, ema_momentum: float,
                   teacher_checkpoint: bool = False) -> Recipe:
    """With --teacher-mode ema the stored pseudo-labels only say which classes are record-positive;
    their maps are recomputed by the EMA teacher. The defaults: the paper's recipe (EMA teacher,
    half of the epochs as stage 1, balanced batches), except where the targets are the
    pseudo-labels stored in Postgres (a job of the streaming system): there the stored targets are
    the teacher (fixed), the student trains on them from the start and batches are uniform, as
    before this recipe existed; and where a teacher checkpoint is given to learn from (--teacher
    without --init-from-teacher), that teacher is fixed. A student started from a teacher's
    weights (--init-from-teacher) is already pre-trained: no stage 1 by default."""
    mode = teacher_mode
    if mode == "auto":
        mode = "fixed" if stored_targets or (teacher_checkpoint and not init_from_teacher) else "ema"
    if mode not in TEACHER_MODES:
        raise ValueError(f"--teacher-mode must be auto, ema or fixed (got {teacher_mode!r})")
    if not 0 <= ema_momentum < 1:
        raise ValueError(f"--ema-momentum must be in [0, 1) (got {ema_momentum})")
    if pretrain_epochs is None:
        pretrain_epochs = 0 if (stored_targets or init_from_teacher) else epochs // 2
    if pretrain_epochs < 0:
        raise ValueError(f"--pretrain-epochs must be >= 0 (got {pretrain_epochs})")
    if sampling is None:
        sampling = "uniform" if stored_targets else "balanced"
    mix = parse_sampling(sampling)
    label = "uniform" if mix is None else "balanced " + ":".join(f"{m:g}" for m in mix)
    return Recipe(teacher_mode=mode, ema_momentum=ema_momentum, pretrain_epochs=pretrain_epochs,
                  sampling=label, mix=mix)


@torch.no_grad()
def ema_update(teacher: torch.nn.Module, student: torch.nn.Module, momentum: float) -> None:
    """teacher <- momentum * teacher + (1 - momentum) * student, for every parameter; buffers
    (batch-norm running statistics, counters) are copied from the student, as Mean Teacher does."""
    for pt, ps in zip(teacher.parameters(), student.parameters()):
        pt.mul_(momentum).add_(ps.detach(), alpha=1.0 - momentum)
    for bt, bs in zip(teacher.buffers(), student.buffers()):
        bt.copy_(bs)


def teacher_targets(maps: np.ndarray, positive: np.ndarray, params: SharpenParams) -> np.ndarray:
    """Targets of a batch from the teacher's probability maps [B, C, h, w]: the sharpened map where
    the record says positive (positive [B, C] bool), zero elsewhere (negatives; excluded classes
    carry zero weight anyway). The fixed-teacher path (train.record_set) and the EMA path call this
    same function, so for the same teacher maps they give bit-identical targets."""
    out = np.zeros(maps.shape, np.float32)
    if positive.any():
        out[positive] = positive_target(maps[positive], params)
    return out


class BalancedSampler:
    """Batches drawn from the groups in a fixed mix. Each group is walked through a fresh random
    permutation and reshuffled when used up, so every image of a group is seen once before any is
    seen twice. The mix is split into whole images per batch by largest remainder (rotating the
    tie-breaks so the long-run shares match the mix); a group that has no image gives its share to
    the others."""

    def __init__(self, groups: np.ndarray, mix: tuple[float, float, float], batch_size: int,
                 rng: np.random.Generator):
        self.groups = np.asarray(groups)
        self.batch_size = batch_size
        self.rng = rng
        self.members = [np.flatnonzero(self.groups == g) for g in range(len(GROUPS))]
        weights = np.array([m if len(self.members[g]) else 0.0 for g, m in enumerate(mix)], np.float64)
        if weights.sum() <= 0:
            raise ValueError("the batch mix gives no weight to any group that has images")
        self.shares = weights / weights.sum()
        self._perm = [np.zeros(0, np.int64)] * len(GROUPS)
        self._pos = [0] * len(GROUPS)
        self._carry = np.zeros(len(GROUPS))

    def counts(self) -> np.ndarray:
        """Images per group in the next batch (sums to batch_size)."""
        want = self.shares * self.batch_size + self._carry
        n = np.floor(want).astype(int)
        rest = self.batch_size - n.sum()
        if rest > 0:
            order = np.argsort(-(want - n), kind="stable")
            n[order[:rest]] += 1
        self._carry = want - n
        return n

    def _take(self, g: int, k: int) -> np.ndarray:
        out = []
        while k > 0:
            if self._pos[g] >= len(self._perm[g]):
                self._perm[g] = self.rng.permutation(self.members[g])
                self._pos[g] = 0
            chunk = self._perm[g][self._pos[g]:self._pos[g] + k]
            self._pos[g] += len(chunk)
            out.append(chunk)
            k -= len(chunk)
        return np.concatenate(out) if out else np.zeros(0, np.int64)

    def next_batch(self) -> np.ndarray:
        return np.concatenate([self._take(g, int(k)) for g, k in enumerate(self.counts())])
