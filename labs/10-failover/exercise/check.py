"""Lab 10's exercise: servers_no_redispatch loses no request when app2 is killed."""

from collections import Counter

from labkit import haproxy
from labkit.exercises import Problem
from labkit.labs import find_lab

lab10 = find_lab(10).load("demo")

MAY_CHANGE = {"backend servers_no_redispatch"}


def check(lab) -> list[str]:
    run = lab10.kill_and_restart(lab, "no_redispatch_front", "servers_no_redispatch", 0.004, pause=0.5)
    lost = lab10.failed(run["answers"])
    if lost == 0:
        return []
    # What the failed requests got (HTTP 503 from HAProxy, or no answer at all and why),
    # so that a failure says its cause.
    got = Counter(f"HTTP {a.status}" if a.status else a.failure for a in run["answers"] if a.status != 200)
    problem = (f"{lost} of {len(run['answers'])} requests failed after app2 was killed "
               f"({'; '.join(f'{kind}: {count}' for kind, count in got.most_common())}). "
               "Where do the retries of a failed request go?")
    if any(a.status == 0 for a in run["answers"]):
        # An answer cut short says nothing of who cut it; HAProxy's log does.
        ended = haproxy.abnormal_endings(lab.haproxy_log())
        if ended:
            problem += (f"\n    HAProxy logged {len(ended)} request(s) that did not end normally:\n      "
                        + "\n      ".join(ended[:5]))
        else:
            problem += ("\n    HAProxy logged every request as ended normally: the answers were cut short "
                        "between HAProxy and this client.")
    return [Problem(problem, closer="`option redispatch` lets a retry go to another server. The `defaults` "
                                    "section turns it on; `servers_no_redispatch` turns it off again.")]
