"""Lab 6's exercise: round robin gives the fast app2 at least 80% of staggered traffic."""

from labkit.client import answers_staggered

LAB_ENV = {"LAB6_SLOW_DELAY": "1"}  # quicker to check than the demo's 5 s


def check(lab) -> list[str]:
    answers = answers_staggered(lab.frontends["round_robin_front"] + "/", 20, 0.1)
    fast = sum(a.backend == "app2" for a in answers)
    if fast >= 16:
        return []
    return [f"app2 answered {fast} of 20 ({100 * fast // 20}%). Round robin cannot see which server is slow, "
            "but you can tell it how many turns each one gets."]
