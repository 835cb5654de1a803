"""The recipe's parts: the EMA teacher update, on-the-fly sharpening (the same targets as the
stored-target path for a fixed teacher), the batch sampler, the defaults, and both stages running."""

import copy

import numpy as np
import pytest
import torch

from distiller import CLASSES
from distiller.data import load_prepared
from distiller.model import build_model, load_checkpoint
from distiller.recipe import (DEFAULT_MIX, GROUPS, BalancedSampler, ema_update, parse_sampling, resolve_recipe,
                              teacher_targets)
from distiller.targets import params_for, positive_target
from distiller.toy_cohort import write_toy_prepared
from distiller.train import TrainOptions, _stage1_set, batch_targets, record_set, region_set, run_training


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return write_toy_prepared(tmp_path_factory.mktemp("toy"), count=120, size=64, seed=5,
                              prevalence=0.5, contrast=0.6, splits=(0.5, 0.25))


@pytest.fixture(scope="module")
def teacher(toy, tmp_path_factory):
    out = tmp_path_factory.mktemp("teacher")
    run_training(TrainOptions(mode="supervised", prepared=str(toy), out=str(out), model="tiny", epochs=15,
                              batch_size=10, lr=1e-2, seed=1, threads=1))
    return out / "model.pt"


# --- EMA update --------------------------------------------------------------------------------

def test_the_ema_teacher_moves_a_momentum_weighted_step_towards_the_student():
    torch.manual_seed(0)
    student, teacher = build_model("tiny"), build_model("tiny")
    before = [p.detach().clone() for p in teacher.parameters()]
    ema_update(teacher, student, 0.9)
    for t, b, s in zip(teacher.parameters(), before, student.parameters()):
        assert torch.allclose(t, 0.9 * b + 0.1 * s, atol=1e-7)


def test_the_ema_teacher_copies_the_students_batch_norm_statistics():
    student, teacher = build_model("tiny"), build_model("tiny")
    student.train()
    student(torch.rand(4, 1, 32, 32))  # updates the running statistics
    ema_update(teacher, student, 0.99)
    for bt, bs in zip(teacher.buffers(), student.buffers()):
        assert torch.equal(bt, bs)


def test_momentum_zero_makes_the_teacher_the_student_and_repeated_updates_converge():
    torch.manual_seed(1)
    student, teacher = build_model("tiny"), build_model("tiny")
    ema_update(teacher, student, 0.0)
    assert all(torch.equal(t, s) for t, s in zip(teacher.parameters(), student.parameters()))
    other = build_model("tiny")
    for _ in range(200):
        ema_update(other, student, 0.95)
    gap = max(float((t - s).abs().max()) for t, s in zip(other.parameters(), student.parameters()))
    assert gap < 1e-3


def test_the_ema_update_never_touches_the_student():
    student, teacher = build_model("tiny"), build_model("tiny")
    saved = copy.deepcopy(student.state_dict())
    ema_update(teacher, student, 0.5)
    assert all(torch.equal(saved[k], v) for k, v in student.state_dict().items())


# --- on-the-fly sharpening ---------------------------------------------------------------------

def test_on_the_fly_targets_equal_the_stored_target_path_bit_for_bit(toy, teacher):
    """A fixed teacher: the EMA path's per-batch targets (batch_targets) and the fixed path's
    targets made before training (record_set) are the same float32 bits."""
    prepared = load_prepared(toy)
    model, _ = load_checkpoint(teacher)
    params = params_for("aals", a0=4.0)
    rec = record_set(prepared, 4, params, model, torch.device("cpu"), None)
    assert rec.positive.any(), "the toy record set has positives"
    x = torch.from_numpy(prepared.batch(rec.indices))
    made = batch_targets(model, x, rec.positive, params)
    assert made.dtype == rec.targets.dtype == np.float32
    assert np.array_equal(made[rec.positive], rec.targets[rec.positive])
    # and they are sharpened: some cell above t was raised for this teacher
    raw = torch.sigmoid(model(x)).detach().numpy()
    assert (made[rec.positive] >= raw[rec.positive] - 1e-7).all()


def test_teacher_targets_sharpen_positives_only_and_match_positive_target():
    rng = np.random.default_rng(3)
    maps = rng.uniform(0, 1, (3, len(CLASSES), 8, 8)).astype(np.float32)
    positive = np.array([[True, False], [False, False], [True, True]])
    params = params_for("aals", a0=4.0)
    out = teacher_targets(maps, positive, params)
    assert not out[~positive].any()
    for n, c in zip(*np.nonzero(positive)):
        assert np.array_equal(out[n, c], positive_target(maps[n, c], params))


# --- sampler ------------------------------------------------------------------------------------

def test_balanced_batches_hold_the_mix_and_walk_each_group_before_repeating():
    groups = np.array([0] * 10 + [1] * 500 + [2] * 60)
    s = BalancedSampler(groups, (1, 1, 2), 16, np.random.default_rng(0))
    batches = [s.next_batch() for _ in range(30)]
    for b in batches:
        assert len(b) == 16
        assert np.bincount(groups[b], minlength=3).tolist() == [4, 4, 8]
    exact = np.concatenate([b[groups[b] == 0] for b in batches])
    for k in range(0, 120, 10):  # every 10 draws of the 10 D_R images are each of them once
        assert sorted(exact[k:k + 10].tolist()) == list(range(10))
    seen = np.concatenate(batches)
    per_positive = np.bincount(seen[groups[seen] == 2] - 510, minlength=60)
    assert per_positive.max() - per_positive.min() <= 1  # 240 draws of 60 images: 4 each


def test_a_mix_that_does_not_divide_the_batch_keeps_its_long_run_shares():
    groups = np.array([0] * 20 + [1] * 20 + [2] * 20)
    s = BalancedSampler(groups, (1, 1, 1), 10, np.random.default_rng(1))
    counts = np.zeros(3)
    for _ in range(300):
        counts += np.bincount(groups[s.next_batch()], minlength=3)
    assert counts.tolist() == [1000, 1000, 1000]


def test_an_empty_group_gives_its_share_to_the_others():
    groups = np.array([0] * 5 + [1] * 50)  # no record positives (stage 1)
    s = BalancedSampler(groups, (1, 1, 2), 8, np.random.default_rng(2))
    assert np.bincount(groups[s.next_batch()], minlength=3).tolist() == [4, 4, 0]
    with pytest.raises(ValueError, match="no weight"):
        BalancedSampler(np.array([2, 2]), (1, 1, 0), 4, np.random.default_rng(0))


def test_sampling_option_values():
    assert parse_sampling("uniform") is None
    assert parse_sampling("balanced") == tuple(float(m) for m in DEFAULT_MIX)
    assert parse_sampling("balanced:2:1:1") == (2.0, 1.0, 1.0)
    for bad in ("balanced:1:1", "x", "balanced:-1:1:1", "0:0:0"):
        with pytest.raises(ValueError, match="--sampling"):
            parse_sampling(bad)


# --- defaults -----------------------------------------------------------------------------------

def test_the_default_is_the_papers_recipe_and_stored_targets_keep_the_streaming_job():
    r = resolve_recipe("auto", stored_targets=False, epochs=10, pretrain_epochs=None, init_from_teacher=False,
                       sampling=None, ema_momentum=0.99)
    assert (r.teacher_mode, r.pretrain_epochs, r.sampling) == ("ema", 5, "balanced 1:1:2")
    r = resolve_recipe("auto", stored_targets=True, epochs=10, pretrain_epochs=None, init_from_teacher=False,
                       sampling=None, ema_momentum=0.99)
    assert (r.teacher_mode, r.pretrain_epochs, r.sampling) == ("fixed", 0, "uniform")
    r = resolve_recipe("fixed", stored_targets=False, epochs=4, pretrain_epochs=None, init_from_teacher=True,
                       sampling="balanced:1:2:1", ema_momentum=0.99)
    assert (r.pretrain_epochs, r.sampling, r.mix) == (0, "balanced 1:2:1", (1.0, 2.0, 1.0))
    r = resolve_recipe("auto", stored_targets=False, epochs=4, pretrain_epochs=None, init_from_teacher=False,
                       sampling=None, ema_momentum=0.99, teacher_checkpoint=True)
    assert (r.teacher_mode, r.pretrain_epochs) == ("fixed", 2)  # learn that checkpoint's maps, after stage 1
    r = resolve_recipe("auto", stored_targets=False, epochs=4, pretrain_epochs=None, init_from_teacher=True,
                       sampling=None, ema_momentum=0.99, teacher_checkpoint=True)
    assert (r.teacher_mode, r.pretrain_epochs) == ("ema", 0)  # start from its weights, average the student
    with pytest.raises(ValueError, match="--ema-momentum"):
        resolve_recipe("ema", False, 4, 2, False, None, 1.0)
    with pytest.raises(ValueError, match="--teacher-mode"):
        resolve_recipe("mean", False, 4, 2, False, None, 0.9)


# --- both stages --------------------------------------------------------------------------------

def test_distill_by_default_pretrains_then_learns_with_an_ema_teacher(toy, tmp_path):
    info = run_training(TrainOptions(mode="distill", prepared=str(toy), out=str(tmp_path), model="tiny", epochs=4,
                                     batch_size=8, seed=2, threads=1, ema_momentum=0.9))
    assert info["trainingRecipe"] == {"teacherMode": "ema", "emaMomentum": 0.9, "pretrainEpochs": 2,
                                      "sampling": "balanced 1:1:2"}
    assert len(info["training"]["stage1"]["history"]) == 2 and len(info["training"]["history"]) == 4
    assert (tmp_path / "ema-teacher.pt").is_file()
    counts = info["counts"]
    assert counts["recordPositive_rib"] > 0 and counts["recordNegative_rib"] > 0


def test_a_fixed_teacher_can_be_the_stage_one_model(toy, tmp_path):
    info = run_training(TrainOptions(mode="distill", prepared=str(toy), out=str(tmp_path), model="tiny", epochs=2,
                                     batch_size=8, seed=2, threads=1, teacher_mode="fixed", pretrain_epochs=1))
    assert info["trainingRecipe"]["teacherMode"] == "fixed" and info["trainingRecipe"]["emaMomentum"] is None
    assert not (tmp_path / "ema-teacher.pt").exists()


def test_pretrain_learns_from_region_boxes_and_record_negatives_only(toy, tmp_path):
    prepared = load_prepared(toy)
    data = _stage1_set(region_set(prepared, 4), record_set(prepared, 4, params_for("none"), None,
                                                           torch.device("cpu"), None, compute_targets=False))
    region = set(e.i for e in prepared.split("region-train"))
    negatives = set(e.i for e in prepared.split("record") if "positive" not in e.record.values())
    assert set(data.indices.tolist()) <= region | negatives and region <= set(data.indices.tolist())
    assert not data.positive.any() and set(data.groups.tolist()) == {GROUPS.index("exact"), GROUPS.index("negative")}
    record_rows = data.groups == GROUPS.index("negative")
    assert not data.targets[record_rows].any()
    info = run_training(TrainOptions(mode="pretrain", prepared=str(toy), out=str(tmp_path), model="tiny", steps=5,
                                     batch_size=8, seed=0, threads=1))
    assert info["training"]["steps"] == 5
    assert info["trainingRecipe"] == {"sampling": "balanced 1:1:0"}


def test_ema_without_a_pretrained_start_says_what_to_give(toy, tmp_path):
    with pytest.raises(ValueError, match="--pretrain-epochs"):
        run_training(TrainOptions(mode="distill", prepared=str(toy), out=str(tmp_path), model="tiny", epochs=1,
                                  teacher_mode="ema"))


def test_stage_one_learns_the_toy_findings_from_boxes_and_negatives(toy, tmp_path):
    info = run_training(TrainOptions(mode="pretrain", prepared=str(toy), out=str(tmp_path), model="tiny", epochs=25,
                                     batch_size=10, lr=1e-2, seed=1, threads=1))
    assert info["metrics"]["rib"]["auroc"] > 0.8 and info["metrics"]["clavicle"]["auroc"] > 0.8
