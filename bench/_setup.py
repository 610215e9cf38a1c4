"""Shared benchmark set-up: Django configured against a scratch database unless told otherwise."""

from __future__ import annotations

import atexit
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def configure(scratch_name: str, keep: bool) -> Path | None:
    """Set Django up. Without ACCORD_DATABASE_URL, a scratch SQLite under a temp dir
    (or ./var/bench/<name> with ``keep``, reused by later runs) so ./var/ stays untouched."""
    sys.path.insert(0, str(ROOT))
    scratch = None
    if "ACCORD_DATABASE_URL" not in os.environ:
        if keep:
            scratch = ROOT / "var" / "bench" / scratch_name
            scratch.mkdir(parents=True, exist_ok=True)
        else:
            scratch = Path(tempfile.mkdtemp(prefix=f"accord-{scratch_name}-"))
            atexit.register(shutil.rmtree, scratch, ignore_errors=True)
        os.environ["ACCORD_VAR_DIR"] = str(scratch)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accord.settings")
    os.environ.setdefault("ACCORD_LOG_LEVEL", "WARNING")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    return scratch


def best_of(fn: Callable[[], Any], repeat: int) -> float:
    """Median wall time of ``repeat`` calls (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def database_label() -> str:
    from django.db import connection

    return f"{connection.vendor} {connection.settings_dict['NAME']}"
