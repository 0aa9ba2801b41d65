"""Peak memory of the current process, measured so that a benchmark's child reports its own."""

from __future__ import annotations

from pathlib import Path


def peak_rss_mb() -> float:
    """The process's resident-set high-water mark (VmHWM) in MiB.

    Not `getrusage(RUSAGE_SELF).ru_maxrss`: Linux carries the parent's peak across fork + exec into
    it, so a child started by a large parent (e.g. `python -m benchmarks` after the import benchmark)
    would report the parent's peak. VmHWM belongs to the new address space made at exec.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    raise RuntimeError("no VmHWM in /proc/self/status (Linux only)")
