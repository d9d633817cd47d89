"""`make soak N=10`: the whole suite N times in a row, and every failure by name."""

import os
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path

from . import paths
from .pytest_plugin import ALONE_PASS
from .errors import LabkitError

# How long an interrupted run may take to stop its labs (a Docker lab takes a few seconds).
STOP_GRACE = 120


def run_suite(command: list[str]) -> subprocess.CompletedProcess:
    """One run of pytest. It has a session of its own so that a Ctrl-C reaches it once, from
    here: on the first SIGINT pytest stops its labs, and a second would cut that short.
    (subprocess.run would kill it 0.25 s after a Ctrl-C, with its labs still up.)"""
    process = subprocess.Popen(command, cwd=paths.ROOT, env=os.environ, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True,
                               # It must hear that SIGINT even where this command runs with SIGINT
                               # ignored (a background job of a script, stopped with `kill`).
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        stdout, stderr = process.communicate()
    except KeyboardInterrupt:
        os.killpg(process.pid, signal.SIGINT)  # pytest and its xdist workers, as a terminal's Ctrl-C
        deadline = time.monotonic() + STOP_GRACE
        while True:
            try:
                process.communicate(timeout=max(0.0, deadline - time.monotonic()))
                break
            except KeyboardInterrupt:
                continue  # another Ctrl-C: the labs are being stopped, let that finish
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate()
                raise LabkitError(f"The interrupted test run did not stop its labs within {STOP_GRACE} s; "
                                  "`make down` stops what it left.") from None
        raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def failures(junit_xml: Path) -> list[str]:
    """The ids of the tests that failed or errored in one run."""
    failed = []
    for case in ElementTree.parse(junit_xml).iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(f"{case.get('classname')}::{case.get('name')}")
    return failed


def suite_once(runtime: str, folder: Path, name: str, keep_failed: Path | None = None) -> tuple[list[str], str]:
    """The whole suite once, as make test runs it: the workers' part, then the tests that need
    the machine alone. Returns the failed tests by name and pytest's summary line; a part
    that failed leaves pytest's output, tracebacks and all, in keep_failed-<part>.txt."""
    failed, summary = [], ""
    for part, extra in enumerate([[], ALONE_PASS]):
        report = folder / f"{name}-{part}.xml"
        result = run_suite([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                            "--runtime", runtime, f"--junitxml={report}", *extra])
        found = failures(report) if report.exists() else [f"pytest exited {result.returncode}"]
        if result.returncode != 0 and not found:
            found = [f"pytest exited {result.returncode}: {result.stdout.strip().splitlines()[-1:]}"]
        if found and keep_failed:
            keep_failed.parent.mkdir(parents=True, exist_ok=True)
            Path(f"{keep_failed}-{part}.txt").write_text(result.stdout + result.stderr)
        failed += found
        summary = summary or (result.stdout.strip().splitlines()[-1] if result.stdout.strip() else "")
    return failed, summary


def soak(runs: int, runtime: str, say=print) -> int:
    seen = Counter()
    failed_runs = 0
    for old in (paths.checkout_state_dir() / "artifacts").glob("soak-run-*.txt"):
        old.unlink()  # an earlier soak's
    with tempfile.TemporaryDirectory() as folder:
        for run in range(1, runs + 1):
            began = time.monotonic()
            kept = paths.checkout_state_dir() / "artifacts" / f"soak-run-{run}"
            failed, summary = suite_once(runtime, Path(folder), f"run-{run}", keep_failed=kept)
            took = time.monotonic() - began
            say(f"run {run}/{runs}: {'ok' if not failed else 'FAILED'} in {took:.0f}s  {summary}")
            for name in failed:
                say(f"    {name}")
            if failed:
                say(f"    (pytest's output: {paths.shown(kept)}-*.txt)")
            seen.update(failed)
            failed_runs += bool(failed)
    say(f"\n{runs - failed_runs} of {runs} runs green ({runtime}).")
    for name, count in seen.most_common():
        say(f"  failed {count}x: {name}")
    return 1 if failed_runs else 0
