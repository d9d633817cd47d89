"""Lab 2's demonstration: one server, then two ("scaling up"); then what a TCP proxy does
with a keep-alive connection, beside an HTTP proxy."""

import time

from labkit import runtimes, stats
from labkit.client import answers_in_turn
from labkit.demo import measured, table


def http_url(record, frontend: str) -> str:
    """HTTP spoken through a frontend, whether HAProxy reads it (http) or not (tcp)."""
    return record["frontends"][frontend].replace("tcp://", "http://", 1) + "/"


def one_per_connection(url: str, connections: int) -> list:
    """One request on each of `connections` new connections."""
    return [answers_in_turn(url, 1)[0] for _ in range(connections)]


def per_connection_row(label, record, backend, send):
    answers, seen, counted = measured(record, backend, send)
    return [label, " ".join(a.backend for a in answers), sum(counted.values())]


def demo(lab, record, say=print):
    settings = lab.manifest["demo"]
    runtime = runtimes.named(record["runtime"])
    tcp = http_url(record, "tcp_front")
    rows = []

    say(f"\nStep 1, one server: app2 is stopped. {settings['connections']} connections to {tcp}")
    runtime.stop_service(record, "app2")
    stats.wait_for_status(record["stats"], {("tcp_servers", "app2"): "DOWN"}, timeout=30)
    rows.append(per_connection_row("app1 alone", record, "tcp_servers",
                                   lambda: one_per_connection(tcp, settings["connections"])))

    say("Step 2, scaling up: app2 starts, and HAProxy's health check finds it.")
    runtime.start_service(record, "app2", time.monotonic() + 60)
    stats.wait_for_status(record["stats"], {("tcp_servers", "app2"): "UP"}, timeout=30)
    rows.append(per_connection_row("app1 and app2", record, "tcp_servers",
                                   lambda: one_per_connection(tcp, settings["connections"])))
    say(table(["servers", "one request per connection: who answered", "HAProxy lbtot"], rows))

    n = settings["requests"]
    say(f"\nNow {n} requests on ONE keep-alive connection, through each frontend:")
    rows = [per_connection_row(f"tcp  {tcp}", record, "tcp_servers", lambda: answers_in_turn(tcp, n)),
            per_connection_row(f"http {http_url(record, 'http_front')}", record, "http_servers",
                               lambda: answers_in_turn(http_url(record, "http_front"), n))]
    say(table(["frontend", "who answered", "HAProxy lbtot"], rows))
    say("Expected: in tcp mode HAProxy chooses once per connection (lbtot 1: everything on it goes\n"
        f"to one server); in http mode it chooses for every request (lbtot {n}).")
