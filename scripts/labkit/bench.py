"""`make bench`: how long things take here, measured, for the README and the instructors'
page to quote.

- `make lab-N` for every lab in each runtime, the median of three runs, warm and cold.
  Warm: straight after the same lab ran and was stopped. Cold: under Docker, with the
  kit's two images removed first (they are built again on the base image, which stays);
  locally, with the kit's Python bytecode caches removed first.
- Locust's throughput against lab 5 (`make load-5 IMPATIENT=1`; LOAD=0 leaves it out).
- The whole suite, once per runtime, as make test runs it (SUITE=0 leaves it out); a failed
  test is named, and makes the bench fail.
Each run is followed by `make down`, which is not counted.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import images, load, paths, runner
from .demo import table
from .labs import all_labs, find_lab
from .runtimes import docker as docker_runtime
from .soak import suite_once

RUNS = 3


def make(*targets: str, runtime: str) -> float:
    """Seconds `make targets` took; a failure stops the bench, since its time means nothing."""
    began = time.monotonic()
    result = subprocess.run(["make", "--no-print-directory", *targets], cwd=paths.ROOT, capture_output=True,
                            text=True, env={**os.environ, "RUNTIME": runtime})
    took = time.monotonic() - began
    if result.returncode != 0:
        sys.exit(f"make {' '.join(targets)} (RUNTIME={runtime}) failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return took


def make_cold(runtime: str) -> None:
    if runtime == "docker":
        engine = docker_runtime.client()
        for image in images.KIT_IMAGES:
            engine.images.remove(image, force=True)
    else:
        for folder in (paths.ROOT / "scripts", paths.ROOT / "backends"):
            for cache in folder.rglob("__pycache__"):
                shutil.rmtree(cache, ignore_errors=True)


def timed_lab(number: int, runtime: str, cold: bool) -> float:
    if cold:
        make_cold(runtime)
    try:
        return make(f"lab-{number}", runtime=runtime)
    finally:
        make("down", runtime=runtime)


# Impatient users against lab 5's round robin.
LOAD_USERS, LOAD_SECONDS = 50, 10


def throughput(number: int, frontend: str, runtime: str) -> load.LoadRun:
    running = runner.up(find_lab(number), runtime, checked=False)
    try:
        return load.run(running, frontend, LOAD_USERS, LOAD_USERS, LOAD_SECONDS, impatient=True)
    finally:
        runner.stop(running.record)


def load_rows(runtime: str) -> list[list]:
    lab5 = throughput(5, "http_front", runtime)
    return [[runtime, f"{lab5.per_second:.0f}", lab5.failed, f"{lab5.percentile(0.99)} ms"]]


def runtimes_here(requested: str) -> list[str]:
    if requested != "auto":
        return [requested]
    return ["local", "docker"] if docker_runtime.engine_answers() else ["local"]


def bench(requested: str = "auto", suite: bool = True, numbers: list[str] | None = None, with_load: bool = True,
          say=print) -> int:
    chosen = runtimes_here(requested)
    header = ["lab"] + [f"{runtime} {kind}" for runtime in chosen for kind in ("warm", "cold")]
    rows = []
    for lab in [find_lab(n) for n in numbers] if numbers else all_labs():
        row = [f"make lab-{lab.number}"]
        for runtime in chosen:
            timed_lab(lab.number, runtime, cold=False)  # so that the first warm run is warm
            warm = [timed_lab(lab.number, runtime, cold=False) for _ in range(RUNS)]
            cold = [timed_lab(lab.number, runtime, cold=True) for _ in range(RUNS)]
            row += [f"{statistics.median(warm):.1f} s", f"{statistics.median(cold):.1f} s"]
        rows.append(row)
        say(f"  {' '.join(map(str, row))}")
    say(f"\n`make lab-N`, median of {RUNS} runs, {os.cpu_count()} cores:")
    say(table(header, rows))
    if with_load:
        say(f"\nLocust, {LOAD_USERS} impatient users for {LOAD_SECONDS} s (make load-5 IMPATIENT=1), against lab 5:")
        say(table(["runtime", "lab 5 requests/s", "failed", "p99"],
                  [row for runtime in chosen for row in load_rows(runtime)]))
    if suite:
        say("")
        suite_rows, failed = [], []
        with tempfile.TemporaryDirectory() as folder:
            for runtime in chosen:
                began = time.monotonic()
                names, summary = suite_once(runtime, Path(folder), runtime)
                took = time.monotonic() - began
                suite_rows.append([f"make test RUNTIME={runtime}", f"{took / 60:.1f} min", summary.strip("= ")])
                failed += [f"{runtime}: {name}" for name in names]
        say(table(["suite", "wall time", "pytest said"], suite_rows))
        if failed:
            say("\nFailed, so the suite's time above is not a clean run's:\n  " + "\n  ".join(failed))
            return 1
    return 0
