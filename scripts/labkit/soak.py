"""`make soak N=10`: the whole suite N times in a row, and every failure by name."""

import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path

from . import paths


def failures(junit_xml: Path) -> list[str]:
    """The ids of the tests that failed or errored in one run."""
    failed = []
    for case in ElementTree.parse(junit_xml).iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed.append(f"{case.get('classname')}::{case.get('name')}")
    return failed


def soak(runs: int, runtime: str, say=print) -> int:
    seen = Counter()
    failed_runs = 0
    with tempfile.TemporaryDirectory() as folder:
        for run in range(1, runs + 1):
            report = Path(folder) / f"run-{run}.xml"
            began = time.monotonic()
            result = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--runtime", runtime,
                 f"--junitxml={report}"],
                cwd=paths.ROOT, capture_output=True, text=True, env=os.environ,
            )
            took = time.monotonic() - began
            failed = failures(report) if report.exists() else [f"pytest exited {result.returncode}"]
            if result.returncode != 0 and not failed:
                failed = [f"pytest exited {result.returncode}: {result.stdout.strip().splitlines()[-1:]}"]
            summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
            say(f"run {run}/{runs}: {'ok' if not failed else 'FAILED'} in {took:.0f}s  {summary}")
            for name in failed:
                say(f"    {name}")
            seen.update(failed)
            failed_runs += bool(failed)
    say(f"\n{runs - failed_runs} of {runs} runs green ({runtime}).")
    for name, count in seen.most_common():
        say(f"  failed {count}x: {name}")
    return 1 if failed_runs else 0
