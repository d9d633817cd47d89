"""Every lab's exercise: the reference solution passes its checker (the untouched starting
point failing it is one of the checks each lab's own tests run, on the lab they have
up). Whether it passes every time (a checker that passes only sometimes is flaky) is
`make soak`'s question, which runs this suite ten times in a row."""

import pytest

from labkit import exercises
from labkit.labs import all_labs, find_lab

LABS = [lab for lab in all_labs() if (lab.path / "exercise" / "check.py").exists()]


def test_every_lab_has_an_exercise():
    assert [lab.number for lab in LABS] == [lab.number for lab in all_labs()]


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.name)
def test_the_reference_solution_passes(lab, runtime):
    said = []
    assert exercises.check(lab.number, solution=True, runtime=runtime, say=said.append) == 0, said
    assert said[-1] == "Done: it does what the task asks."


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.name)
def test_each_solution_changes_only_what_its_task_allows(lab):
    """The reference solution stays the lab's config plus the exercise, and cannot drift."""
    checker = lab.load("exercise/check")
    solution = lab.path / "exercise" / "solution.cfg"
    changed = exercises.changed_sections(lab.config.read_text(), solution.read_text())
    assert changed and changed <= checker.MAY_CHANGE, changed
    assert exercises.out_of_bounds(lab, checker, solution) == []


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.name)
def test_a_change_the_task_does_not_ask_for_is_named(lab, tmp_path):
    checker = lab.load("exercise/check")
    lines = lab.config.read_text().splitlines()
    kind, name = next((kind, name) for kind, name in
                      (line.split()[:2] for line in lines if line[:1].isalpha() and len(line.split()) > 1)
                      if f"{kind} {name}" not in checker.MAY_CHANGE)
    at = lines.index(next(line for line in lines if line.split()[:2] == [kind, name]))
    lines.insert(at + 1, "    timeout client 1s")
    copy = tmp_path / "haproxy.cfg"
    copy.write_text("\n".join(lines) + "\n")
    problems = exercises.out_of_bounds(lab, checker, copy)
    assert problems and f"also changes {kind} {name};" in problems[0], problems


@pytest.mark.parametrize("lab_number, backend, old, new", [
    (6, "round_robin_servers", "balance roundrobin", "balance leastconn"),
    (8, "one_draw", "server slow slow:8000 weight 256 check", "server slow slow:8000 weight 1 check"),
])
def test_what_must_stay_stays(lab_number, backend, old, new, tmp_path):
    """Lab 6 asks to help round robin, not to swap it for least connections; lab 8 asks to
    change how servers are picked, not their weights. Both swaps would pass the measurement."""
    lab = find_lab(lab_number)
    text = lab.config.read_text()
    start = text.index(f"backend {backend}\n")
    copy = tmp_path / "haproxy.cfg"
    copy.write_text(text[:start] + text[start:].replace(old, new, 1))
    assert exercises.changed_sections(text, copy.read_text()) == {f"backend {backend}"}
    problems = exercises.out_of_bounds(lab, lab.load("exercise/check"), copy)
    assert len(problems) == 1 and "must" in problems[0], problems


@pytest.mark.parametrize("hint", [1, 2])
def test_the_second_hint_comes_only_when_asked_for(hint, monkeypatch, tmp_path):
    """`make check-lab-N` gives each problem's first hint and says how to get the second;
    HINT=2 gives the second as well, once however many problems share it."""
    nearer = "a hint nearer the answer, shared by both problems"
    problems = [exercises.Problem("first problem, with its own first hint", nearer),
                exercises.Problem("second problem, with its own first hint", nearer)]
    monkeypatch.setattr(exercises, "out_of_bounds", lambda lab, checker, config: problems)
    said = []
    assert exercises.check(5, config=tmp_path / "haproxy.cfg", hint=hint, say=said.append) == 1
    assert said[1:4] == ["Not yet:", f"  - {problems[0]}", f"  - {problems[1]}"]
    if hint == 1:
        assert said[4:] == ["Stuck? A hint nearer the answer: make check-lab-5 HINT=2"]
    else:
        assert said[4:] == ["Nearer the answer:", f"  - {nearer}"]
