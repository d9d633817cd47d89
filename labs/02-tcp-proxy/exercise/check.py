"""Lab 2's exercise: new TCP connections go to the server with fewer connections open."""

import time

from labkit.client import ask, session
from labkit.exercises import Problem
from labkit.labs import find_lab

lab2 = find_lab(2).load("demo")


def open_connections(lab) -> int:
    return sum(lab.counters("tcp_servers", "scur").values())


def settle(lab, expected: int) -> None:
    """Until HAProxy has seen closed connections close (its count of open ones, scur)."""
    deadline = time.monotonic() + 5
    while open_connections(lab) != expected and time.monotonic() < deadline:
        time.sleep(0.05)

MAY_CHANGE = {"backend tcp_servers"}


def check(lab) -> list[str]:
    url = lab2.http_url(lab, "tcp_front")
    with session() as held:  # one keep-alive connection, kept open while the others come
        busy = ask(held, url).backend
        new = []
        for _ in range(2):
            settle(lab, 1)
            with session() as http:
                new.append(ask(http, url).backend)
        ask(held, url)
    if busy in new:
        return [Problem(
            f"With a connection held open to {busy}, two new connections went to {new[0]} and "
            f"{new[1]}: still taking turns. Which `balance` counts open connections?",
            closer="`balance leastconn` gives each new connection to the server with the fewest open, "
                   "which suits long connections like these. It goes in `backend tcp_servers`.")]
    return []
