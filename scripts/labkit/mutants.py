"""`make mutants`: proof that a lab's tests can fail. Each lab's lab.toml lists wrong
configs a learner could write, as edits of its haproxy.cfg:

    [[mutants]]
    what = "least connections where the lab teaches round robin"
    edits = [["backend servers", "balance roundrobin", "balance leastconn"]]

Each edit replaces the first `old` inside the named section. For each mutant the lab's own
tests run, in one runtime, on the mutated config; a mutant is caught when they fail. One
that HAProxy refuses is not a mutant but a typo: it is reported as such, and counts as not
caught, since refusal proves nothing about the tests.
"""

import os
import subprocess
import sys
from pathlib import Path

from . import paths, runner
from .errors import LabkitError
from .labs import Lab, all_labs, find_lab

# The variable that makes the `lab` fixture run another config in the lab's place.
CONFIG_VARIABLE = "LABKIT_MUTANT_CONFIG"


def mutated(text: str, edits: list[list[str]]) -> str:
    lines = text.splitlines(keepends=True)
    for section, old, new in edits:
        starts = [i for i, line in enumerate(lines) if line.rstrip() == section]
        if len(starts) != 1:
            raise LabkitError(f"a mutant edits section {section!r}, which the config has {len(starts)} times")
        end = next((i for i in range(starts[0] + 1, len(lines)) if lines[i][:1].isalpha()), len(lines))
        at = next((i for i in range(starts[0] + 1, end) if old in lines[i]), None)
        if at is None:
            raise LabkitError(f"a mutant replaces {old!r} in {section}, which no longer holds it")
        lines[at] = lines[at].replace(old, new, 1)
    return "".join(lines)


def refused_by_haproxy(lab: Lab, config: Path) -> str:
    """HAProxy's objection to a config, or "" (checked as `labkit check` does)."""
    try:
        runner.check_offline(lab.with_config(config))
        return ""
    except LabkitError as error:
        return str(error)


def run(numbers: list[str], runtime: str = "local", say=print) -> int:
    labs = [find_lab(n) for n in numbers] if numbers else all_labs()
    folder = paths.state_dir() / "mutants"
    folder.mkdir(parents=True, exist_ok=True)
    total, caught, survivors = 0, 0, []
    for lab in labs:
        mutants = lab.manifest.get("mutants", [])
        if len(mutants) < 2:
            survivors.append(f"{lab}: lists {len(mutants)} mutant(s) in lab.toml; every lab lists at least two")
        for index, mutant in enumerate(mutants, 1):
            total += 1
            name = f"lab {lab.number} mutant {index} ({mutant['what']})"
            config = folder / f"lab-{lab.number:02d}-{index}.cfg"
            config.write_text(mutated(lab.config.read_text(), mutant["edits"]))
            objection = refused_by_haproxy(lab, config)
            if objection:
                survivors.append(f"{name}: HAProxy refuses it, so it tests nothing:\n{objection}")
                say(f"  REFUSED   {name}")
                continue
            # Not the docs page's recorded output (any change at all fails that comparison)
            # nor the exercise's check (a mutant may be a solution): neither says whether the
            # tests of what the lab shows can fail.
            # One process (-n 0): one lab's tests are one xdist group anyway, and under xdist
            # -x ends the run as interrupted (exit 2), not failed (exit 1).
            result = subprocess.run(
                [sys.executable, "-m", "pytest", str(lab.path), "--runtime", runtime, "-x", "-q", "-n", "0",
                 "-p", "no:cacheprovider", "-k", "not test_make_lab_shows_what_its_docs_page_shows and not test_the_untouched_exercise"],
                cwd=paths.ROOT, capture_output=True, text=True, env={**os.environ, CONFIG_VARIABLE: str(config)})
            if result.returncode == 1:  # tests ran, and some failed
                caught += 1
                failed = [line for line in result.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
                say(f"  caught    {name}: {failed[0] if failed else 'tests failed'}")
            else:
                tail = "\n".join(result.stdout.splitlines()[-5:])
                survivors.append(f"{name}: pytest exited {result.returncode}\n{tail}")
                say(f"  SURVIVED  {name}")
    say(f"\n{caught} of {total} mutants caught")
    for survivor in survivors:
        say(f"  - {survivor}")
    return 0 if caught == total and not survivors else 1
