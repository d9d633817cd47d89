"""Lab 15's exercise: round robin, all three servers, and a p95 under 500 ms under load."""

import re

from labkit import load
from labkit.demo import share
from labkit.exercises import Problem
from labkit.labs import find_lab

MAY_CHANGE = {"backend roundrobin_pool"}
SETTINGS = find_lab(15).manifest["demo"]


def must_stay(reference: str, yours: str) -> list[str]:
    section = yours.split("backend roundrobin_pool", 1)[1].split("\nfrontend ", 1)[0]
    servers = re.findall(r"^\s*server\s+(\S+)", section, re.M)
    if "balance roundrobin" not in section or sorted(servers) != ["app1", "app2", "slow"]:
        return [Problem("roundrobin_pool must keep `balance roundrobin` and its three servers, app1, app2 and "
                        "slow: the task is to shorten the tail with round robin itself.",
                        closer="Put the balance line and the three server lines back; then change what a "
                               "server line can say about how much of the rotation it gets.")]
    return []


def check(lab) -> list[str]:
    run = load.run(lab, "roundrobin_front", SETTINGS["users"], SETTINGS["spawn_rate"], SETTINGS["seconds"])
    slow, p95 = run.served.get("slow", 0), run.percentile(0.95)
    if run.failed:
        return [Problem(f"{run.failed} of {run.requests} requests failed: every request must be answered.",
                        closer="Leave the servers' addresses and checks as they are; change only their weights.")]
    if not slow:
        return [Problem("The slow server got no requests: it must still take part, just less.",
                        closer="A weight of 0 takes a server out of the rotation; give it a small weight instead.")]
    if p95 >= 500:
        return [Problem(
            f"The p95 was {p95} ms, with the slow server answering {share(slow, run.requests)} of the "
            f"requests. The p95 stays a slow answer while more than 5% of all answers are slow ones of half a "
            f"second or more.",
            closer="Six in ten of the slow server's answers take 0.5 s or more, so its share must be under "
                   "5% / 0.6, about 8%: with app1 and app2 at weight 256, a weight for slow of 40 or less.")]
    return []
