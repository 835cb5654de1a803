"""The distiller: trains the fracture detector (teacher and student) per PAPER.md, evaluates it,
exports it to ONNX and registers it. Run as `python -m distiller ...` (see __main__.py)."""

CLASSES = ("rib", "clavicle")
"""Detector classes, in map-channel order (docs/data-contracts.md)."""

__version__ = "0.1.0"
