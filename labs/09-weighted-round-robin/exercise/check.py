"""Lab 9's exercise: of 100 requests in turn, app1 20, app2 50, app3 30."""

from collections import Counter

MAY_CHANGE = {"backend servers"}


def check(lab) -> list[str]:
    seen = Counter(a.backend for a in lab.answers_in_turn(100))
    problems = []
    if seen["app2"] != 50:
        problems.append(f"app2 answered {seen['app2']} of 100 requests; half would be 50.")
    if seen["app1"] * 3 != seen["app3"] * 2:
        problems.append(f"app1 answered {seen['app1']} and app3 {seen['app3']}: no longer 2 to 3.")
    if problems:
        problems.append("A round lasts as many requests as the weights add up to.")
    return problems
