"""Lab 1's exercise: a stopped server is marked DOWN within 2 s."""

from labkit.exercises import Problem

MAY_CHANGE = {"defaults"}  # the task: only the health-check settings


def check(lab) -> list[str]:
    out = lab.outage("app2", ["servers"])
    took = out.down - out.stopped
    if took >= 2.0:
        return [Problem(
            f"app2 was marked DOWN {took:.1f} s after it stopped. Which two settings on the "
            "`default-server` line decide how often HAProxy checks, and how many failures it waits for?",
            closer="`inter` is the time between two checks and `fall` the failures in a row before DOWN: "
                   "DOWN comes about (fall - 1) x inter after the first failed check. Lower both.")]
    return []
