"""Lab 15's demonstration: the same Locust load against each algorithm's frontend in turn,
over one pool of two fast servers and a slow one; then one table, a row per algorithm."""

from labkit import load
from labkit.demo import share, table

SERVERS = ["app1", "app2", "slow"]


def demo(lab, say=print):
    settings = lab.lab.manifest["demo"]
    users, spawn_rate, seconds = settings["users"], settings["spawn_rate"], settings["seconds"]
    say(f"\nLocust sends {users} users (three browsers to every API client) to each frontend in turn, "
        f"{seconds} s each.\nThe pool behind each: app1 and app2 answer at once, slow takes 0.1 to 1 s:")
    runs = {}
    for frontend in settings["frontends"]:
        runs[frontend] = load.run(lab, frontend, users, spawn_rate, seconds)
    rows = [[frontend.removesuffix("_front"), f"{run.per_second:.0f}", run.failed,
             *(f"{run.percentile(p)} ms" for p in (0.5, 0.95, 0.99)),
             *(share(run.served.get(server, 0), run.requests) for server in SERVERS)]
            for frontend, run in runs.items()]
    say("")
    say(table(["algorithm", "requests/s", "failed", "p50", "p95", "p99", *SERVERS], rows))
    agree = [frontend for frontend, run in runs.items() if load.counts_agree(run)]
    say(f"(each server's share as Locust counted it, by X-Backend; HAProxy's lbtot for the same run "
        f"{'agrees for every algorithm' if len(agree) == len(runs) else 'differs for ' + ', '.join(sorted(set(runs) - set(agree)))})")
    say("Expected: round robin sends the slow server a third and waits on it, so its p95 is a slow\n"
        "answer; least connections and random(2) send it far less, and first keeps to app1 while it\n"
        "has room. Locust's own web UI, against any frontend:  make load-15 UI=1 FRONTEND=leastconn_front")
    return runs
