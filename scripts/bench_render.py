"""Times photo mode stage by stage and reports each stage's peak memory.

    .venv/bin/python scripts/bench_render.py [PHOTO] [--megapixels 12] [--layers auto]

Without PHOTO it renders skimage's coffee photo enlarged to the given size (needs the dev extras).
"""

import argparse
import resource
import tempfile
import time
from pathlib import Path

import cv2

from rilievo.domain.params import RenderParams
from rilievo.entrypoints.bootstrap import work_side
from rilievo.entrypoints.logs import configure_logging
from rilievo.entrypoints.memory import give_freed_memory_back
from rilievo.entrypoints.settings import Settings


def sample_photo(folder: Path, megapixels: float) -> Path:
    import skimage.data

    photo = skimage.data.coffee()
    scale = (megapixels * 1e6 / (photo.shape[0] * photo.shape[1])) ** 0.5
    size = (round(photo.shape[1] * scale), round(photo.shape[0] * scale))
    path = folder / f"coffee_{megapixels:g}mp.jpg"
    cv2.imwrite(str(path), cv2.cvtColor(cv2.resize(photo, size, interpolation=cv2.INTER_CUBIC), cv2.COLOR_RGB2BGR))
    return path


def peak_rss_mib(reset: bool = False) -> float:
    """The process's peak RSS since the last reset (VmHWM); reset starts the next stage's peak from now."""
    status = Path("/proc/self/status").read_text()
    peak = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) / 1024
    if reset:
        Path("/proc/self/clear_refs").write_text("5")
    return peak


def clocks() -> tuple[float, float, float, float, int]:
    """Wall time, the process's CPU time, the main thread's, the process's system time, its minor page faults."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return time.perf_counter(), time.process_time(), time.thread_time(), usage.ru_stime, usage.ru_minflt


def spent(first: tuple, last: tuple) -> str:
    wall, cpu, main_thread, system, faults = (b - a for a, b in zip(first, last))
    return (f"{wall:6.2f} s  CPU {cpu:6.2f} s (main thread {main_thread:5.2f} s, system {system:5.2f} s, "
            f"{faults / 1000:5.0f} k page faults)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("photo", nargs="?", type=Path)
    parser.add_argument("--megapixels", type=float, default=12)
    parser.add_argument("--layers", default="auto")
    args = parser.parse_args()
    configure_logging("warning")
    give_freed_memory_back()  # as `rilievo render` does
    with tempfile.TemporaryDirectory() as folder:
        photo = args.photo or sample_photo(Path(folder), args.megapixels)
        work = work_side(Settings(storage_dir=Path(folder) / "storage", models_dir=Path(folder)))
        layers = args.layers if args.layers in ("auto", "off") else int(args.layers)
        marks: list[tuple[str, float, float, float, float, int]] = []
        peaks: list[float] = []

        def on_progress(job):
            if job.stage and (not marks or marks[-1][0] != job.stage):
                if marks:
                    peaks.append(peak_rss_mib(reset=True))
                marks.append((job.stage, *clocks()))

        start = clocks()
        job = work.render_now.render(photo, RenderParams(layers=layers), on_progress=on_progress)
        end = clocks()
        peaks.append(peak_rss_mib())
    marks.append(("end", *end))
    print(f"photo: {photo.name}  status: {job.status}  engines: {dict(job.engines)}")
    # CPU seconds (all threads) beside the wall time: on a shared machine they move less. The main
    # thread's share is the work that waits for no other thread: on an idle machine, about the wall time.
    # The system time is mostly page faults: every array of 4 MiB or more is a fresh mapping.
    for (stage, *first), (_, *last), peak in zip(marks, marks[1:], peaks):
        print(f"  {stage:<13} {spent(first, last)}  peak RSS {peak:5.0f} MiB")
    print(f"  {'total':<13} {spent(start, end)}")
    print(f"peak RSS: {max(peaks):.0f} MiB")


if __name__ == "__main__":
    main()
