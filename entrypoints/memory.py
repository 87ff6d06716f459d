"""How the process gets its memory back from numpy."""

from __future__ import annotations

import ctypes
import sys

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
# numpy asks for huge pages (2 MB) for arrays of 4 MiB or more, so a fresh one faults in a page every
# 2 MB; a smaller one would fault every 4 kB, and is taken from the heap again instead.
MMAP_THRESHOLD_BYTES = 4 << 20


def give_freed_memory_back() -> None:
    """Make every allocation of 4 MiB or more a memory mapping of its own, returned to the system when
    freed. glibc raises that threshold itself, up to 32 MB, each time a large block is freed, and then
    keeps freed image bands and layers in a heap that it seldom shrinks: a print job's peak memory
    measured 1.34 GB at the start of its print stage with the default and 0.92 GB with a 1 MB threshold.
    At 1 MB, the 12 MP job's many arrays of 1-4 MB (the edge refinement's at its working size, a band's
    single channel) were each paid for in page faults: 4 MiB nearly halved them (a 24x36 print at 600
    DPI peaked higher with it, 833 MiB against 775, one run each). Each thread keeps its own heap
    (glibc's default): with one for all, two runs in about 25 of the 12 MP job peaked at 787-790 MiB,
    not 731-755 (likely holes left where the threads' blocks interleaved). Only on Linux with glibc;
    elsewhere nothing changes."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
    except (OSError, AttributeError):  # not glibc (musl, say)
        return
