"""Target methods exactly as PAPER.md defines them; expected values worked out by hand."""

import numpy as np
import pytest

from distiller.targets import (METHODS, adaptive_strength, negative_target, params_for,
                               positive_target)


def test_none_returns_the_teacher_map_unchanged():
    y = np.array([[[0.0, 0.2], [0.6, 1.0]]], dtype=np.float32)
    np.testing.assert_array_equal(positive_target(y, params_for("none")), y)


def test_symmetric_pushes_above_half_up_and_never_lowers_below_it():
    # a = 4, t = 0.5: S(0.7) = expit(4 * ln(0.7/0.3)) = expit(3.3892) = 0.967365
    y = np.array([[0.7, 0.3]], dtype=np.float32)
    out = positive_target(y, params_for("symmetric", a0=4.0))
    assert out[0, 0] == pytest.approx(0.967365, abs=1e-5)
    # S(0.3) = 0.0326 < 0.3, so max(S, y) keeps the teacher's 0.3.
    assert out[0, 1] == pytest.approx(0.3, abs=1e-6)


def test_asymmetric_centre_is_0_4_so_0_45_goes_up():
    # a = 4, t = 0.4: 4 ln(0.45/0.55) - 3 ln(0.4/0.6) = -0.80267 + 1.21640 = 0.41372 -> 0.601978
    y = np.array([[0.45, 0.4]], dtype=np.float32)
    out = positive_target(y, params_for("asymmetric", a0=4.0))
    assert out[0, 0] == pytest.approx(0.601978, abs=1e-5)
    # The centre is a fixed point: S(t) = t.
    assert out[0, 1] == pytest.approx(0.4, abs=1e-6)


def test_aals_strength_adapts_to_the_maps_maximum():
    # y_max = 0.5 -> a = 4 - 3 * 0.5 = 2.5.
    # S(0.5) = expit(2.5 * 0 - 1.5 * ln(0.4/0.6)) = expit(0.608198) = 0.647530
    # S(0.3) = expit(2.5 * -0.847298 + 0.608198) = expit(-1.510047) = 0.180932 -> max with 0.3 = 0.3
    y = np.array([[0.5, 0.3], [0.1, 0.0]], dtype=np.float32)
    out = positive_target(y, params_for("aals", a0=4.0))
    assert out[0, 0] == pytest.approx(0.647530, abs=1e-5)
    assert out[0, 1] == pytest.approx(0.3, abs=1e-6)
    assert out[1, 1] == pytest.approx(0.0, abs=1e-6)


def test_aals_is_identity_when_the_teacher_is_certain():
    # y_max = 1 - eps -> a ~ 1 -> S(y) ~ y.
    y = np.array([[1.0, 0.35, 0.6]], dtype=np.float32)
    out = positive_target(y, params_for("aals", a0=4.0, eps=1e-6))
    np.testing.assert_allclose(out, y, atol=1e-4)


def test_aals_maps_of_a_batch_are_sharpened_independently():
    a = np.array([[0.5, 0.3]], dtype=np.float32)
    b = np.array([[0.9, 0.5]], dtype=np.float32)
    p = params_for("aals")
    batch = positive_target(np.stack([a, b])[:, None], p)  # [N=2, C=1, 1, 2]
    np.testing.assert_allclose(batch[0, 0], positive_target(a, p))
    np.testing.assert_allclose(batch[1, 0], positive_target(b, p))
    assert batch[1, 0, 0, 1] != pytest.approx(batch[0, 0, 0, 0])  # same y = 0.5, different y_max


def test_adaptive_strength_endpoints():
    assert adaptive_strength(0.0, 4.0) == pytest.approx(4.0)
    assert adaptive_strength(1.0, 4.0) == pytest.approx(1.0)


def test_eps_clamp_keeps_zero_and_one_finite():
    y = np.array([[0.0, 1.0]], dtype=np.float32)
    for method in METHODS:
        out = positive_target(y, params_for(method))
        assert np.all(np.isfinite(out)), method
        assert out[0, 1] == pytest.approx(1.0)
        assert 0.0 <= out[0, 0] <= 1e-3


def test_targets_never_lower_the_teacher():
    rng = np.random.default_rng(0)
    y = rng.random((3, 2, 8, 8)).astype(np.float32)
    for method in METHODS:
        assert np.all(positive_target(y, params_for(method)) >= y - 1e-7), method


def test_negative_target_is_all_zero():
    z = negative_target((2, 4, 4))
    assert z.shape == (2, 4, 4) and not z.any()


def test_bad_parameters_are_refused_clearly():
    with pytest.raises(ValueError, match="unknown target method"):
        params_for("sharpest")
    with pytest.raises(ValueError, match="a0"):
        params_for("aals", a0=0.5)


def test_a_stored_aals_target_gives_back_the_teachers_map():
    """What the stream stores (the AALS target and its t, a0, eps) is enough to recover the teacher's
    map, and so any other method's target, without running the teacher again: exactly from float32,
    within about two 8-bit steps from the stored bytes (the adaptive strength falls to 1 as the
    peak rises, so S never saturates)."""
    from distiller.targets import raw_from_target
    rng = np.random.default_rng(4)
    for method, a0s in (("none", (4.0,)), ("aals", (2.0, 4.0, 8.0)), ("symmetric", (2.0,)), ("asymmetric", (2.0,))):
        for a0 in a0s:
            params = params_for(method, a0=a0)
            for peak in (0.2, 0.4, 0.45, 0.7, 0.95):
                y = (rng.uniform(0, 1, (2, 16, 16)) * peak).astype(np.float32)
                y[:, 3, 5] = peak
                target = positive_target(y, params)
                assert np.abs(raw_from_target(target, params) - y).max() < 1e-6, (method, a0, peak)
                if method == "aals":
                    stored = np.round(target * 255) / 255
                    assert np.abs(raw_from_target(stored, params) - y).max() < 2.5 / 255, (a0, peak)


def test_a_strong_fixed_sharpening_saturates_and_loses_the_map():
    """Why the stream should keep the raw map if it ever stores symmetric/asymmetric targets: with a
    fixed a = 4 a teacher value of 0.8 becomes 0.9988, which is 255 in 8 bits: back comes 0.96."""
    from distiller.targets import raw_from_target
    params = params_for("asymmetric", a0=4.0)
    y = np.full((1, 4, 4), 0.1, np.float32)
    y[0, 1, 1] = 0.8
    stored = np.round(positive_target(y, params) * 255) / 255
    assert abs(float(raw_from_target(stored, params)[0, 1, 1]) - 0.8) > 0.1
