"""The distiller ends with the worker that started it (a kill -9 of the worker leaves no trainer)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

PKG = str(Path(__file__).resolve().parents[1])

# A stand-in for the distill-worker: starts a child that sleeps (a long training run), prints its
# pid, and dies without stopping it, as a kill -9 would.
PARENT = """
import os, subprocess, sys
env = dict(os.environ)
if env.get("DISTILLER_EXIT_WITH_PARENT") == "set-by-parent":
    env["DISTILLER_EXIT_WITH_PARENT"] = str(os.getpid())
child = subprocess.Popen([sys.executable, "-c", sys.argv[1]], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(child.pid, flush=True)
os._exit(0)
"""
CHILD = """
from distiller.__main__ import main  # noqa: F401  (what `python -m distiller` imports first)
try:
    from distiller.parent_watch import exit_with_parent_if_asked
    exit_with_parent_if_asked()
except ImportError:
    pass  # a distiller without the watch: the test must see it keep running
import time
time.sleep(120)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def _orphan(exit_with_parent: bool) -> int:
    env = {**os.environ, "PYTHONPATH": PKG}
    if exit_with_parent:
        env["DISTILLER_EXIT_WITH_PARENT"] = "set-by-parent"
    else:
        env.pop("DISTILLER_EXIT_WITH_PARENT", None)
    out = subprocess.run([sys.executable, "-c", PARENT, CHILD], env=env, capture_output=True, text=True,
                         check=True)
    return int(out.stdout.strip())


def test_a_distiller_started_by_the_worker_ends_when_the_worker_dies():
    pid = _orphan(exit_with_parent=True)
    # the watcher polls every second; a loaded machine may take longer, so wait generously
    deadline = time.monotonic() + 60
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    alive = _alive(pid)
    if alive:
        os.kill(pid, 9)
    assert not alive, f"distiller {pid} still running after its parent died"


def test_without_the_setting_the_orphan_keeps_running():
    pid = _orphan(exit_with_parent=False)
    try:
        time.sleep(3)  # three polls of the watcher, had it been started
        assert _alive(pid)
    finally:
        os.kill(pid, 9)
