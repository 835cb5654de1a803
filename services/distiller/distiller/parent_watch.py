"""Ends the distiller when the process that started it is gone.

The distill-worker runs the distiller as a child process. When the worker dies without stopping it
(kill -9, OOM), nothing else would: the orphan keeps training on the machine's cores, next to the
attempt the scheduler starts once the job's lease expires, until it next writes to its closed stdout.
With DISTILLER_EXIT_WITH_PARENT=<the worker's pid> (set by the worker's local runner) a daemon
thread polls the parent pid and exits the process as soon as it is no longer that one (Linux
re-parents orphans to init or a subreaper). The pid comes from the parent, so a parent that died
before the distiller started is noticed too.
"""

from __future__ import annotations

import os
import threading
import time

EXIT_PARENT_GONE = 4


def exit_with_parent(parent: int, poll_seconds: float = 1.0) -> threading.Thread:

    def watch() -> None:
        while True:
            time.sleep(poll_seconds)
            if os.getppid() != parent:
                os._exit(EXIT_PARENT_GONE)

    thread = threading.Thread(target=watch, name="exit-with-parent", daemon=True)
    thread.start()
    return thread


def exit_with_parent_if_asked(environ: "os._Environ[str] | dict[str, str]" = os.environ) -> None:
    parent = environ.get("DISTILLER_EXIT_WITH_PARENT", "")
    if parent.isdigit():
        exit_with_parent(int(parent))
