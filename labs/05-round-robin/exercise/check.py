"""Lab 5's exercise: of 40 requests in turn, app3 answers 20, app1 and app2 10 each."""

from collections import Counter

from labkit.exercises import Problem

MAY_CHANGE = {"backend servers"}


def check(lab) -> list[str]:
    seen = Counter(a.backend for a in lab.answers_in_turn(40))
    if seen == {"app1": 10, "app2": 10, "app3": 20}:
        return []
    return [Problem(
        f"Of 40 requests, app1 answered {seen['app1']}, app2 {seen['app2']} and app3 {seen['app3']}; "
        "the task asks for 10, 10 and 20. What makes HAProxy give a server more turns than another?",
        closer="`weight` on a server line: round robin gives each server turns in proportion to it, "
               "so app3's must be twice the others'.")]
