"""Lets `pytest services/distiller/tests` run from any directory (the package is not installed)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
