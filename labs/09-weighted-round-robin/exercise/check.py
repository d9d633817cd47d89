"""Lab 9's exercise: of 100 requests in turn, app1 20, app2 50, app3 30."""

from collections import Counter

from labkit.exercises import Problem

MAY_CHANGE = {"backend servers"}


def check(lab) -> list[str]:
    seen = Counter(a.backend for a in lab.answers_in_turn(100))
    problems = []
    closer = ("app2's weight must equal app1's and app3's together, with app1 : app3 still 2 : 3: "
              "2, 5 and 3 is one answer.")
    if seen["app2"] != 50:
        problems.append(Problem(f"app2 answered {seen['app2']} of 100 requests; half would be 50.", closer))
    if seen["app1"] * 3 != seen["app3"] * 2:
        problems.append(Problem(f"app1 answered {seen['app1']} and app3 {seen['app3']}: no longer 2 to 3.", closer))
    if problems:
        problems.append(Problem("A round lasts as many requests as the weights add up to.", closer))
    return problems
