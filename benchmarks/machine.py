"""One line describing the machine a benchmark ran on, shared by the benchmark scripts."""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path


def processor() -> str:
    """The processor's model name and its widest vector instructions, where Linux says
    (int8 and float kernels, Whisper's among them, may take other paths on other ones)."""
    name, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name" and value.strip():
                name = value.strip()
            elif key.strip() == "flags":
                flags = set(value.split())
                break
    except OSError:
        return name
    widest = next((isa for isa in ("avx512f", "avx2", "avx") if isa in flags), None)
    return f"{name} ({widest.upper()})" if widest else name


def describe() -> str:
    """Host, processor, usable cores, Python version and today's date."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{platform.node()}, {processor()}, {cores} cores, "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d')}"
    )
