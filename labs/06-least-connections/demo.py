"""Lab 6's demonstration: the same staggered traffic to least connections and to round robin."""

import os

from labkit import compose
from labkit.client import answers_staggered
from labkit.demo import measured, share, table

SERVERS = ["app1", "app2", "app3"]


def slow_delay(lab) -> float:
    services = compose.load_services(lab.compose_file, os.environ)
    return float(services["app1"].environment["DELAY"])


def fast_floor(requests: int, interval: float, delay: float) -> int:
    """The fewest requests the fast app2 can get under least connections. A slow server
    given a request holds it `delay` seconds; app2 answers before the next arrival, so it
    has no request in progress whenever one arrives and a busy slow server never wins
    against it. Each slow server thus takes at most one request per `delay` seconds of
    arrivals: at most floor(T / delay) + 1 over the T = (requests - 1) * interval seconds."""
    arrivals_span = (requests - 1) * interval
    return requests - 2 * (int(arrivals_span // delay) + 1)


def demo(lab, say=print):
    settings = lab.lab.manifest["demo"]
    count, interval, delay = settings["requests"], settings["interval"], slow_delay(lab.lab)
    say(f"\nThe same traffic to both frontends: {count} requests, one every {interval} s, each on its own")
    say(f"connection. app1 and app3 take {delay:g} s to answer; app2 answers at once.")
    rows, summary = [], []
    for frontend, backend, label in (("http_front", "servers", "leastconn"),
                                      ("round_robin_front", "round_robin_servers", "roundrobin")):
        url = lab.frontends[frontend] + "/"
        say(f"  sending to {label} at {url} ...")
        answers, seen, counted = measured(lab, backend, lambda: answers_staggered(url, count, interval))
        rows.append([label, *(f"{seen[s]} ({counted[s]})" for s in SERVERS), share(seen["app2"], count),
                     f"{sum(a.seconds for a in answers) / count:.1f} s", f"{max(a.seconds for a in answers):.1f} s"])
        summary.append(seen)
    say("")
    say(table(["balance", *SERVERS, "app2 share", "mean wait", "longest wait"], rows))
    say("(each cell: answers the client saw (HAProxy's lbtot for the same run))")
    floor = fast_floor(count, interval, delay)
    say(f"\nExpected: with least connections app2 answers at least {floor} of {count} "
        f"({share(floor, count)}),\nbecause a slow server busy with a request never wins against an idle app2;"
        f" with round robin\neach server answers a third, so two thirds of the requests wait {delay:g} s.")
