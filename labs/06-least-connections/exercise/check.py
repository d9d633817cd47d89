"""Lab 6's exercise: round robin gives the fast app2 at least 80% of staggered traffic."""

from labkit import haproxy
from labkit.client import answers_staggered, count_backends
from labkit.exercises import Problem

MAY_CHANGE = {"backend round_robin_servers"}


def must_stay(reference: str, yours: str) -> list[str]:
    balance = [s.directives("balance") for s in haproxy.sections(yours) if s.name == "round_robin_servers"]
    if balance != [[["roundrobin"]]]:
        return [Problem("round_robin_servers must keep `balance roundrobin`: the task is to help round robin, not to replace it.",
                        closer="Put `balance roundrobin` back, and change what each server line says about "
                               "its share of the turns instead.")]
    return []


def check(lab) -> list[str]:
    fast = count_backends(answers_staggered(lab.frontends["round_robin_front"] + "/", 20, 0.1))["app2"]
    if fast >= 16:
        return []
    return [Problem(
        f"app2 answered {fast} of 20 ({100 * fast // 20}%). Round robin cannot see which server is slow, "
        "but you can tell it how many turns each one gets.",
        closer="`weight` on app2's server line: with app1 and app3 at 1, app2 needs at least 8 "
               "for four turns in five.")]
