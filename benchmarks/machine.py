"""One line describing the machine a benchmark ran on, shared by the benchmark scripts."""

from __future__ import annotations

import os
import platform
import time


def describe() -> str:
    """Host, processor, usable cores, Python version and today's date."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{platform.node()}, {platform.processor() or platform.machine()}, {cores} cores, "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}"
    )
