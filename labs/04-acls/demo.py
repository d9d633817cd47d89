"""Lab 4's demonstration: every rule, with a request that matches it and one that does not."""

from dataclasses import dataclass, field

from labkit import stats
from labkit.client import ask, session
from labkit.demo import table

# Clients by host number: 127.0.4.h on your machine, 172.16.4.h in Docker.
OUTSIDE, BLOCKED, INTERNAL = 20, 70, 130
TERMINAL = None  # the learner's own requests, from 127.0.0.1 (or Docker's bridge)
BACKENDS = ["main", "static", "post", "mobile", "admin", "form"]
PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1"


@dataclass(frozen=True)
class Case:
    rule: str
    what: str
    client: int | None
    method: str
    path: str
    expected: str | int  # the backend that answers, or 403
    headers: dict = field(default_factory=dict, hash=False)


CASES = [
    Case("1 path /static", "a static file", TERMINAL, "GET", "/static/logo.png", "static"),
    Case("1 path /static", "any other page", TERMINAL, "GET", "/about", "main"),
    Case("2 blocked network", "from the blocked network", BLOCKED, "GET", "/", 403),
    Case("2 blocked network", "from another address", OUTSIDE, "GET", "/", "main"),
    Case("3 POST", "a POST", TERMINAL, "POST", "/orders", "post"),
    Case("3 POST", "a GET of the same path", TERMINAL, "GET", "/orders", "main"),
    Case("4 mobile", "a phone's User-Agent", TERMINAL, "GET", "/", "mobile", {"User-Agent": PHONE}),
    Case("4 mobile", "'MOBILE' in capitals", TERMINAL, "GET", "/", "mobile", {"User-Agent": "MOBILE-APP/2.1"}),
    Case("4 mobile", "a desktop browser", TERMINAL, "GET", "/", "main", {"User-Agent": "Mozilla/5.0 (X11; Linux)"}),
    Case("5 admin", "/admin from the internal network", INTERNAL, "GET", "/admin", "admin"),
    Case("5 admin", "/admin from another address", OUTSIDE, "GET", "/admin", 403),
    Case("5 admin", "/admin/users from your terminal", TERMINAL, "GET", "/admin/users", 403),
    Case("5 admin", "another page from the internal network", INTERNAL, "GET", "/", "main"),
    Case("6 POST /submit", "a POST to /submit", TERMINAL, "POST", "/submit", "form"),
    Case("6 POST /submit", "a GET of /submit", TERMINAL, "GET", "/submit", "main"),
    Case("6 POST /submit", "a POST elsewhere", TERMINAL, "POST", "/comments", "post"),
]


def send(lab, clients, case: Case) -> str | int:
    """What answered the case's request: a backend's name, or the status if none did."""
    if case.client is TERMINAL:
        with session() as http:
            answer = ask(http, lab.frontends["http_front"] + case.path, case.method, headers=case.headers)
    else:
        address = clients.addresses[[OUTSIDE, BLOCKED, INTERNAL].index(case.client)]
        answer = clients.answers(address, "http_front", case.path, 1, case.method, case.headers)[0]
    return answer.backend if answer.backend else answer.status


def address_of(clients, case: Case) -> str:
    if case.client is TERMINAL:
        return "your terminal"
    return clients.addresses[[OUTSIDE, BLOCKED, INTERNAL].index(case.client)]


def passed_to_backends(lab) -> int:
    return sum(sum(lab.counters(f"{b}_backend", "lbtot").values()) for b in BACKENDS)


def demo(lab, say=print):
    with lab.clients(hosts=[OUTSIDE, BLOCKED, INTERNAL]) as clients:
        denied_before = stats.frontend_counter(lab.stats_url, "http_front", "dreq")
        rows = [[c.rule, c.what, address_of(clients, c), f"{c.method} {c.path}", c.expected, send(lab, clients, c)]
                for c in CASES]
        denied = stats.frontend_counter(lab.stats_url, "http_front", "dreq") - denied_before
    say("")
    say(table(["rule", "request", "from", "sends", "expected", "got"], rows))
    say(f"\nHAProxy's stats: http_front denied {denied} requests (dreq); they never reached a backend.")
