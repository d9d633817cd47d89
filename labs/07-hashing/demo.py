"""Lab 7's demonstration: who sticks where, and how many move when a server goes away."""

import time
from collections import Counter

from labkit import runtimes, stats
from labkit.client import answers_in_turn
from labkit.demo import table
from labkit.errors import LabkitError

SERVERS = ["app1", "app2", "app3"]
SOURCE_BACKENDS = {"consistent": ("http_front", "by_source"), "map-based": ("source_map_front", "by_source_map")}


def who_serves(clients, frontend: str) -> dict[str, str]:
    """{client address: the one server that answered its three requests}."""
    answers = runtimes.ask_every_client(clients, frontend, "/", 3)
    servers = {address: {a.backend for a in got} for address, got in answers.items()}
    unsteady = {address: s for address, s in servers.items() if len(s) != 1}
    if unsteady:
        raise LabkitError(f"clients answered by more than one server: {unsteady}")
    return {address: s.pop() for address, s in servers.items()}


def who_serves_paths(record, paths: list[str]) -> dict[str, set[str]]:
    """{path: every server that answered it, asked with three different query strings}."""
    url = record["frontends"]["uri_front"]
    return {path: {a.backend for q in ("", "?page=2", "?page=3&sort=new")
                   for a in answers_in_turn(url + path + q, 1)} for path in paths}


def moved(before: dict, after: dict) -> dict[str, int]:
    changed = [c for c in before if before[c] != after[c]]
    return {"on app3 before": sum(s == "app3" for s in before.values()),
            "moved": len(changed), "moved, not from app3": sum(before[c] != "app3" for c in changed)}


def take_app3_out(runtime, record, during) -> dict:
    """Stop app3, wait until HAProxy sees it DOWN in both source backends, run `during()`,
    then start app3 again and wait until it is UP."""
    down = {(backend, "app3"): "DOWN" for _, backend in SOURCE_BACKENDS.values()}
    runtime.stop_service(record, "app3")
    try:
        took = stats.wait_for_status(record["stats"], down, timeout=30)
        return {"result": during(), "seconds": took}
    finally:
        runtime.start_service(record, "app3", time.monotonic() + 60)
        stats.wait_for_status(record["stats"], dict.fromkeys(down, "UP"), timeout=30)


def demo(lab, record, say=print):
    settings = lab.manifest["demo"]
    runtime = runtimes.named(record["runtime"])
    with runtime.clients(record, settings["clients"]) as clients:
        first, last = clients.addresses[0], clients.addresses[-1]
        say(f"\n{settings['clients']} clients, {first} to {last}, send 3 requests each to balance source:")
        before = {name: who_serves(clients, frontend) for name, (frontend, _) in SOURCE_BACKENDS.items()}
        per_server = Counter(before["consistent"].values())
        say(table(["server", "clients"], [[s, per_server[s]] for s in SERVERS]))
        say("Every client got the same server all three times.")

        paths = [f"/video/{i}" for i in range(settings["paths"])]
        say(f"\n{len(paths)} paths, each asked three times with a different query string, to balance uri:")
        servers_of = who_serves_paths(record, paths)
        per_server = Counter(next(iter(s)) for s in servers_of.values() if len(s) == 1)
        say(table(["server", "paths"], [[s, per_server[s]] for s in SERVERS]))
        say(f"{sum(len(s) == 1 for s in servers_of.values())} of {len(paths)} paths kept one server "
            "whatever the query string.")

        say("\nNow app3 stops. Once HAProxy has marked it DOWN, the same clients ask again:")
        out = take_app3_out(runtime, record, lambda: {name: who_serves(clients, frontend)
                                                      for name, (frontend, _) in SOURCE_BACKENDS.items()})
        after = out["result"]
        counts = {name: moved(before[name], after[name]) for name in SOURCE_BACKENDS}
        say(table(["clients", "consistent", "map-based"],
                  [[row, counts["consistent"][row], counts["map-based"][row]] for row in counts["consistent"]]))
        say(f"(app3 was marked DOWN {out['seconds']:.1f} s after it stopped; it has been started again.)")
        say("Expected: with consistent hashing only app3's clients move; map-based hashing re-deals\n"
            "nearly everyone, about two clients in three.")
