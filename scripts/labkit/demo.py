"""What `make lab-N` shows once the lab is up: traffic, and who answered it.

A lab folder may hold a demo.py with `demo(lab, say)`, lab being the RunningLab, for a
demonstration of its own; otherwise the lab gets the default: requests one after another, counted by the
client and by HAProxy, beside the share the config's weights promise.
"""

import re
from collections import Counter

from . import haproxy, stats
from .client import count_backends
from .errors import LabkitError


# 10, 33.3%, 0.7 s, 103 ms, 26 (26), or - for none
NUMBER = re.compile(r"-|\d+(\.\d+)?( ?%| s| ms)?( \(\d+\))?")


def table(header: list[str], rows: list[list]) -> str:
    """Columns of numbers right-aligned, columns of words left-aligned."""
    cells = [header] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    numeric = [bool(rows) and all(NUMBER.fullmatch(str(row[i])) for row in rows) for i in range(len(header))]
    lines = ["  ".join((c.rjust(w) if numeric[i] else c.ljust(w)) for i, (c, w) in enumerate(zip(row, widths))).rstrip()
             for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


BAR_WIDTH = 10  # characters for the largest count: a table of five columns stays within 80


def bar(count: float, largest: float, width: int = BAR_WIDTH) -> str:
    """A bar of plain characters, as long against `width` as `count` is against the largest
    count of its table: the split at a glance, in any terminal and on the docs pages."""
    return "#" * round(width * count / largest) if largest else ""


def share(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def one_server_each(answers: dict) -> dict[str, str]:
    """{client: the one server that answered all its requests}, from {client: its answers};
    a client answered by more than one is an error, since the labs that ask say it sticks."""
    servers = {client: {a.backend for a in got} for client, got in answers.items()}
    unsteady = {client: s for client, s in servers.items() if len(s) != 1}
    if unsteady:
        raise LabkitError(f"clients answered by more than one server: {unsteady}")
    return {client: s.pop() for client, s in servers.items()}


def measured(lab, backend: str, send) -> tuple[list, Counter, Counter]:
    """Run `send()` (which returns answers) and count who answered, both ways:
    (answers, the client's count by X-Backend, HAProxy's lbtot for `backend` over the run)."""
    with lab.counting(backend) as counted:
        answers = send()
    return answers, count_backends(answers), counted["lbtot"]


def distribution(lab, count: int, say=print) -> dict:
    """Send `count` requests in turn; print and return who answered, as both sides count it."""
    config = lab.lab.config.read_text()
    frontend, url = next(iter(lab.frontends.items()))
    backend = haproxy.default_backend(config, frontend)
    weights = {s.name: s.weight for s in haproxy.servers(config) if s.backend == backend}
    say(f"\nSending {count} requests to {url}/ one after another ...")
    with lab.counting(backend, "stot", "lbtot") as haproxy_counts:
        answers = lab.answers_in_turn(count, frontend=frontend)
    seen = count_backends(answers)
    order = [a.backend for a in answers]
    cycle = sum(weights.values())  # one round of the rotation: every server gets its weight
    rounds = [" ".join(order[i:i + cycle]) for i in range(0, min(2 * cycle, count), cycle)]
    say(f"The first answers, {cycle} to a round: " + " | ".join(rounds) + (" | ..." if count > 2 * cycle else ""))
    largest = max(seen.values(), default=0)
    rows = [[server, seen.get(server, 0), haproxy_counts["stot"].get(server, 0),
             haproxy_counts["lbtot"].get(server, 0), share(weight, sum(weights.values())),
             share(seen.get(server, 0), count), bar(seen.get(server, 0), largest)]
            for server, weight in weights.items()]
    rows.append(["total", sum(seen.values()), sum(haproxy_counts["stot"].values()),
                 sum(haproxy_counts["lbtot"].values()), share(1, 1), share(sum(seen.values()), count), ""])
    say("")
    say(table(["server", "client saw", "HAProxy stot", "HAProxy lbtot", "expected", "observed", ""], rows))
    say("(client saw: X-Backend headers; stot/lbtot: HAProxy's counters for this run; "
        "expected: the weights in haproxy.cfg)")
    return {"order": order, "client": dict(seen), "haproxy": {f: dict(c) for f, c in haproxy_counts.items()}}


def run(lab, say=print, requests: int | None = None):
    """The lab's demonstration on the running lab; returns what it measured, for the tests."""
    if (lab.lab.path / "demo.py").exists():
        return lab.lab.load("demo").demo(lab, say)
    return distribution(lab, requests or lab.lab.manifest.get("demo", {}).get("requests", 30), say)


def explore(lab, say=print) -> None:
    say("\nExplore:")
    places = [(name, f"{url}/") for name, url in lab.frontends.items()]
    if lab.stats_url:
        places.append(("stats page", lab.stats_url))
    if lab.record.runtime_api:
        places.append(("Runtime API", f"echo 'show info' | socat stdio tcp:{lab.record.runtime_api}"))
    width = max(len(name) for name, _ in places)
    for name, url in places:
        say(f"  {name:<{width}}  {url}")
    say("The lab keeps running. Stop it with: make down")
    # `make lab-N` does not wait for HAProxy's own checks (runner.up), so a check that fails,
    # as one edited to ask the wrong path does, is told here. Only then is it worth waiting
    # for the first check of every server (HAProxy spreads them over `inter`), to name all.
    failed = stats.failed_checks(stats.rows(lab.stats_url)) if lab.stats_url else []
    if failed:
        stats.wait_until_checked(lab.stats_url, until="first")
        failed = stats.failed_checks(stats.rows(lab.stats_url))
        say(f"\nHAProxy's health checks fail for {', '.join(failed)}: it sends no traffic there until "
            "they pass. The stats page shows why; the checks are set in the lab's haproxy.cfg.")
