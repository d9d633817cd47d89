"""Lab 2's demonstration: one server, then two ("scaling up"); then what a TCP proxy does
with a keep-alive connection, beside an HTTP proxy."""

from labkit.client import answers_in_turn
from labkit.demo import measured, table


def http_url(lab, frontend: str) -> str:
    """HTTP spoken through a frontend, whether HAProxy reads it (http) or not (tcp)."""
    return lab.frontends[frontend].replace("tcp://", "http://", 1) + "/"


def one_per_connection(url: str, connections: int) -> list:
    """One request on each of `connections` new connections."""
    return [answers_in_turn(url, 1)[0] for _ in range(connections)]


def per_connection_row(label, lab, backend, send):
    answers, seen, counted = measured(lab, backend, send)
    return [label, " ".join(a.backend for a in answers), sum(counted.values())], answers


def demo(lab, say=print):
    settings = lab.lab.manifest["demo"]
    tcp = http_url(lab, "tcp_front")
    connections = settings["connections"]

    say(f"\nStep 1, one server: app2 is stopped. {connections} connections to {tcp}")
    # app2 must be back in both backends before the keep-alive rows below: each backend
    # checks it on its own, and in Docker its rise can come a second after the other's.
    out = lab.outage("app2", ["tcp_servers", "http_servers"], during=lambda: per_connection_row(
        "app1 alone", lab, "tcp_servers", lambda: one_per_connection(tcp, connections)))
    say("Step 2, scaling up: app2 starts, and HAProxy's health check finds it.")
    both = per_connection_row("app1 and app2", lab, "tcp_servers", lambda: one_per_connection(tcp, connections))
    say(table(["servers", "one request per connection: who answered", "HAProxy lbtot"], [out.result[0], both[0]]))

    n = settings["requests"]
    say(f"\nNow {n} requests on ONE keep-alive connection, through each frontend:")
    keep_alive = [per_connection_row(f"tcp  {tcp}", lab, "tcp_servers", lambda: answers_in_turn(tcp, n)),
                  per_connection_row(f"http {http_url(lab, 'http_front')}", lab, "http_servers",
                                     lambda: answers_in_turn(http_url(lab, "http_front"), n))]
    say(table(["frontend", "who answered", "HAProxy lbtot"], [row for row, _ in keep_alive]))
    say("Expected: in tcp mode HAProxy chooses once per connection (lbtot 1: everything on it goes\n"
        f"to one server); in http mode it chooses for every request (lbtot {n}).")
    return {"app1 alone": out.result[1], "app1 and app2": both[1],
            "tcp keep-alive": keep_alive[0][1], "http keep-alive": keep_alive[1][1]}
