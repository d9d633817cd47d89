"""`make check-lab-N`: run a learner's version of a lab's config and check what it does.

Each lab's exercise/ folder holds the task (task.md, shown on the lab's page), a
reference solution (solution.cfg) and a checker (check.py, with `check(lab)` returning
what is still off, each with a hint). The learner edits exercise/haproxy.cfg, a copy of
the lab's config made for them the first time (not committed).
"""

import os
import shutil

from . import paths, runner, state
from .errors import LabkitError
from .labs import find_lab
from .running import RunningLab


def learners_copy(lab, say=print):
    copy = lab.path / "exercise" / "haproxy.cfg"
    if not copy.exists():
        shutil.copyfile(lab.path / "haproxy.cfg", copy)
        say(f"Your copy of lab {lab.number}'s config is {paths.shown(copy)}: do the exercise there\n"
            f"(the task is on the lab's page and in {paths.shown(lab.path / 'exercise' / 'task.md')}).\n")
    return copy


def check(number, solution: bool = False, runtime: str | None = None, say=print, config=None) -> int:
    """Check the learner's copy, the reference solution, or any `config` given."""
    lab = find_lab(number)
    folder = lab.path / "exercise"
    if not (folder / "check.py").exists():
        raise LabkitError(f"{lab} has no exercise yet")
    if state.load(lab.number):
        raise LabkitError(f"{lab} is running, and the check starts its own copy on the same ports.\n"
                          "Stop it first: make down")
    config = config or (folder / "solution.cfg" if solution else learners_copy(lab, say))
    checker = lab.load("exercise/check")
    say(f"Checking {paths.shown(config)} ...")
    saved = {key: os.environ.get(key) for key in getattr(checker, "LAB_ENV", {})}
    os.environ.update(getattr(checker, "LAB_ENV", {}))
    try:
        record, _ = runner.up(lab.with_config(config), runtime, say=lambda message: None)
        try:
            problems = checker.check(RunningLab(lab.with_config(config), record))
        finally:
            runner.stop(record)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    if problems:
        say("Not yet:")
        for problem in problems:
            say(f"  - {problem}")
        return 1
    say("Done: it does what the task asks.")
    return 0
