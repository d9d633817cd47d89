"""Every lab's exercise: the untouched starting point fails its checker with a hint, and
the reference solution passes it, twice in a row (a checker that passes only sometimes is
flaky, and a checker that cannot fail is worthless)."""

import pytest

from labkit import exercises
from labkit.labs import all_labs

LABS = [lab for lab in all_labs() if (lab.path / "exercise" / "check.py").exists()]


def test_every_lab_has_an_exercise():
    assert [lab.number for lab in LABS] == [lab.number for lab in all_labs()]


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.name)
def test_the_untouched_starting_point_fails_with_a_hint(lab, runtime):
    said = []
    assert exercises.check(lab.number, runtime=runtime, say=said.append, config=lab.path / "haproxy.cfg") == 1
    assert said[-2] == "Not yet:" or "Not yet:" in said, said
    hints = said[said.index("Not yet:") + 1:]
    assert hints and all(len(hint) > 40 for hint in hints), hints


@pytest.mark.parametrize("lab", LABS, ids=lambda lab: lab.name)
def test_the_reference_solution_passes_twice(lab, runtime):
    for _ in range(2):
        said = []
        assert exercises.check(lab.number, solution=True, runtime=runtime, say=said.append) == 0, said
        assert said[-1] == "Done: it does what the task asks."
