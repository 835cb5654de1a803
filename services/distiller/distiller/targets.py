"""Student training targets from a teacher's probability maps (PAPER.md, "AALS").

    S(y)   = expit(a * logit(y) + (1 - a) * logit(t))
    a      = a0 - (a0 - 1) * y_max        (AALS only; y_max = max of the teacher's map on the image)
    target = max(S(y), y)

Methods (the paper's ablation):
  none        target = y
  symmetric   t = 0.5, a fixed
  asymmetric  t = 0.4, a fixed
  aals        t = 0.4, a adaptive per image and class
The max with y is applied to every sharpening method, so that the three differ only in what the
ablation varies (centre t, fixed vs adaptive strength). y is clamped to [eps, 1 - eps] before logit;
y_max is taken over the clamped map. Record-negative images get all-zero targets (negative_target);
uncertain ones are excluded by the caller (a zero loss weight).

Pure numpy, no I/O: the pseudo-labeler's TypeScript implementation must agree with this one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

METHODS = ("none", "symmetric", "asymmetric", "aals")


@dataclass(frozen=True)
class SharpenParams:
    """Parameters of one target method; stored with every model trained from them."""

    method: str = "aals"
    t: float = 0.4
    a0: float = 4.0
    a: float = 4.0  # the fixed strength of symmetric/asymmetric; unused by none and aals
    eps: float = 1e-6  # as the TypeScript pseudo-labeler (services/shared/aals)

    def to_dict(self) -> dict:
        return asdict(self)


def params_for(method: str, a0: float = 4.0, a: float | None = None, eps: float = 1e-6,
               t: float | None = None) -> SharpenParams:
    """The paper's settings for a method name; a defaults to a0, t to the method's centre."""
    if method not in METHODS:
        raise ValueError(f"unknown target method {method!r}; expected one of {', '.join(METHODS)}")
    if a0 < 1:
        raise ValueError(f"a0 must be >= 1 (got {a0})")
    if not 0 < eps < 0.5:
        raise ValueError(f"eps must be in (0, 0.5) (got {eps})")
    centre = t if t is not None else (0.5 if method == "symmetric" else 0.4)
    if not 0 < centre < 1:
        raise ValueError(f"t must be in (0, 1) (got {centre})")
    return SharpenParams(method=method, t=centre, a0=a0, a=a0 if a is None else a, eps=eps)


def logit(p: np.ndarray) -> np.ndarray:
    return np.log(p) - np.log1p(-p)


def expit(x: np.ndarray) -> np.ndarray:
    # Written with exp of a non-positive number only, so it never overflows.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sharpen(y: np.ndarray, a: float | np.ndarray, t: float, eps: float) -> np.ndarray:
    """max(S(y), y) with S the sharpening centred at t with strength a (broadcast against y)."""
    y64 = np.asarray(y, dtype=np.float64)
    yc = np.clip(y64, eps, 1.0 - eps)
    s = expit(a * logit(yc) + (1.0 - a) * np.log(t / (1.0 - t)))
    return np.maximum(s, y64)


def adaptive_strength(y_max: np.ndarray | float, a0: float) -> np.ndarray:
    """a = a0 - (a0 - 1) * y_max: strongest (a0) where the teacher is unsure, 1 where it is certain."""
    return a0 - (a0 - 1.0) * np.asarray(y_max, dtype=np.float64)


def positive_target(teacher_map: np.ndarray, params: SharpenParams) -> np.ndarray:
    """Target for a record-positive class map (shape [..., h, w]; leading axes are independent
    maps, e.g. [N, C, h, w]). Returns float32 of the same shape."""
    y = np.asarray(teacher_map, dtype=np.float64)
    if params.method == "none":
        return y.astype(np.float32)
    if params.method == "aals":
        y_max = np.clip(y, params.eps, 1 - params.eps).max(axis=(-2, -1), keepdims=True)
        a = adaptive_strength(y_max, params.a0)
    else:
        a = params.a
    return sharpen(y, a, params.t, params.eps).astype(np.float32)


def negative_target(shape: tuple[int, ...]) -> np.ndarray:
    """Record-negative: all zeros, no teacher needed."""
    return np.zeros(shape, dtype=np.float32)


def raw_from_target(target: np.ndarray, params: SharpenParams, tol: float = 1e-12) -> np.ndarray:
    """The teacher's map back from a stored target (the inverse of positive_target, for maps [..., h, w]).

    max(S(y), y) leaves every cell with y <= t as it was and maps y > t one-to-one onto (t, 1)
    (S(t) = t, S increasing), so a cell above t came from S^-1 of its value. For AALS the strength a
    depends on the map's maximum; the maximum target is S_a(y_max)(y_max), increasing in y_max on
    (t, 1) for a0 >= 1, and is inverted by bisection first. The stream stores the AALS target, its
    t, a0 and eps (pseudo_labels), so a raw map, and from it a target of another method, t or a0,
    can be had without running the teacher again, up to the 8-bit quantisation of the stored map
    (docs/data-contracts.md, "What the stream stores")."""
    v = np.asarray(target, dtype=np.float64)
    if params.method == "none":
        return v.astype(np.float32)
    lt = np.log(params.t / (1.0 - params.t))

    def inverse(values, a):
        vc = np.clip(values, params.eps, 1.0 - params.eps)
        return expit((logit(vc) - (1.0 - a) * lt) / a)

    if params.method == "aals":
        v_max = v.max(axis=(-2, -1), keepdims=True)
        lo = np.full(v_max.shape, params.t)
        hi = np.full(v_max.shape, 1.0 - params.eps)
        for _ in range(200):  # bisection on y_max in (t, 1): f(y) = S_a(y)(y)
            mid = (lo + hi) / 2
            a_mid = adaptive_strength(mid, params.a0)
            f = expit(a_mid * logit(mid) + (1.0 - a_mid) * lt)
            lo, hi = np.where(f < v_max, mid, lo), np.where(f < v_max, hi, mid)
            if float(np.max(hi - lo)) < tol:
                break
        a = adaptive_strength((lo + hi) / 2, params.a0)
    else:
        a = params.a
    raised = v > params.t
    return np.where(raised, inverse(v, a), v).astype(np.float32)
