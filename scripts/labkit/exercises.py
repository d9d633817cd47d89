"""`make check-lab-N`: run a learner's version of a lab's config and check what it does.

Each lab's exercise/ folder holds the task (task.md, shown on the lab's page), a
reference solution (solution.cfg) and a checker (check.py). The checker names the
sections the task lets the learner change (MAY_CHANGE), may say what must stay as it is
(`must_stay(reference, yours)`, read from the configs before anything starts), and
measures the running lab (`check(lab)`); each returns what is still off, with a hint:
a Problem, whose `closer` is a second hint, nearer the answer, shown with HINT=2.
The learner edits exercise/haproxy.cfg, a copy of the lab's config made for them the
first time (not committed).
"""

import shutil
from pathlib import Path

from . import haproxy, paths, runner, state
from .errors import LabkitError
from .labs import find_lab


class Problem(str):
    """What is still off, with a first hint that leaves the answer to the learner; `closer`
    is a second hint, nearer the answer, for `make check-lab-N HINT=2`."""

    def __new__(cls, text: str, closer: str = ""):
        problem = super().__new__(cls, text)
        problem.closer = closer
        return problem


def same_server_lines(reference: str, yours: str, backend: str) -> bool:
    """Whether a backend's `server` lines are as the lab's config has them (for a checker's
    must_stay, where the task changes how a backend picks, not what it picks from)."""
    def server_lines(text):
        return [s.directives("server") for s in haproxy.sections(text) if s.name == backend]
    return server_lines(yours) == server_lines(reference)


def learners_copy(lab, say=print):
    copy = lab.path / "exercise" / "haproxy.cfg"
    if not copy.exists():
        shutil.copyfile(lab.path / "haproxy.cfg", copy)
        say(f"Your copy of lab {lab.number}'s config is {paths.shown(copy)}: do the exercise there\n"
            f"(the task is on the lab's page and in {paths.shown(lab.path / 'exercise' / 'task.md')}).\n")
    return copy


def changed_sections(reference: str, yours: str) -> set[str]:
    """The sections ("backend servers", "defaults") whose directives differ between two
    configs; comments, blank lines and indentation aside."""
    def by_name(text):
        return {f"{s.kind} {s.name}".strip(): [words for _, words in s.lines] for s in haproxy.sections(text)}
    ours, theirs = by_name(reference), by_name(yours)
    return {name for name in ours.keys() | theirs.keys() if ours.get(name) != theirs.get(name)}


def out_of_bounds(lab, checker, config: Path) -> list[str]:
    """What the learner's copy does that the task rules out, read from the configs alone."""
    reference, yours = lab.config.read_text(), Path(config).read_text()
    problems = []
    extra = sorted(changed_sections(reference, yours) - checker.MAY_CHANGE)
    if extra:
        problems.append(f"Your copy also changes {', '.join(extra)}; the task asks you to change only "
                        f"{', '.join(sorted(checker.MAY_CHANGE))}. Put the rest back as it was.")
    if hasattr(checker, "must_stay"):
        problems += checker.must_stay(reference, yours)
    return problems


def check(number, solution: bool = False, runtime: str | None = None, say=print, config=None,
          hint: int = 1) -> int:
    """Check the learner's copy, the reference solution, or any `config` given; hint=2 adds
    the hints nearer the answer."""
    lab = find_lab(number)
    folder = lab.path / "exercise"
    if not (folder / "check.py").exists():
        raise LabkitError(f"{lab} has no exercise yet")
    if state.load(lab.number):
        raise LabkitError(f"{lab} is running, and the check starts its own copy on the same ports.\n"
                          f"Stop it first: make down-{lab.number}")
    config = config or (folder / "solution.cfg" if solution else learners_copy(lab, say))
    checker = lab.load("exercise/check")
    say(f"Checking {paths.shown(config)} ...")
    problems = out_of_bounds(lab, checker, config) or measured(lab.with_config(config), checker, runtime)
    if problems:
        say("Not yet:")
        closer = []
        for problem in problems:
            say(f"  - {problem}")
            if getattr(problem, "closer", "") and problem.closer not in closer:
                closer.append(problem.closer)
        if closer and hint >= 2:
            say("Nearer the answer:")
            for text in closer:
                say(f"  - {text}")
        elif closer:
            say(f"Stuck? A hint nearer the answer: make check-lab-{lab.number} HINT=2")
        return 1
    say("Done: it does what the task asks.")
    return 0


def measured(lab, checker, runtime) -> list[str]:
    """Start the lab with the config to check, run the checker against it, stop the lab."""
    running = runner.up(lab, runtime, say=lambda message: None)
    try:
        return checker.check(running)
    finally:
        runner.stop(running.record)
