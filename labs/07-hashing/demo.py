"""Lab 7's demonstration: who sticks where, and how many move when a server goes away."""

from collections import Counter

from labkit import runtimes
from labkit.client import answers_in_turn
from labkit.demo import one_server_each, table

SERVERS = ["app1", "app2", "app3"]
SOURCE_BACKENDS = {"consistent": ("http_front", "by_source"), "map-based": ("source_map_front", "by_source_map")}


def who_serves(clients, frontend: str) -> dict[str, str]:
    """{client address: the one server that answered its three requests}."""
    return one_server_each(runtimes.ask_every_client(clients, frontend, "/", 3))


def who_serves_paths(lab, paths: list[str]) -> dict[str, set[str]]:
    """{path: every server that answered it, asked with three different query strings}."""
    url = lab.frontends["uri_front"]
    return {path: {a.backend for q in ("", "?page=2", "?page=3&sort=new")
                   for a in answers_in_turn(url + path + q, 1)} for path in paths}


def moved(before: dict, after: dict) -> dict[str, int]:
    changed = [c for c in before if before[c] != after[c]]
    return {"on app3 before": sum(s == "app3" for s in before.values()),
            "moved": len(changed), "moved, not from app3": sum(before[c] != "app3" for c in changed)}


def demo(lab, say=print):
    settings = lab.lab.manifest["demo"]
    with lab.clients(settings["clients"]) as clients:
        first, last = clients.addresses[0], clients.addresses[-1]
        say(f"\n{settings['clients']} clients, {first} to {last}, send 3 requests each to balance source:")
        with lab.counting("by_source") as counted:
            answers = runtimes.ask_every_client(clients, "http_front", "/", 3)
        before = {"consistent": one_server_each(answers), "map-based": who_serves(clients, "source_map_front")}
        per_server = Counter(before["consistent"].values())
        say(table(["server", "clients", "HAProxy lbtot"],
                  [[s, per_server[s], counted["lbtot"][s]] for s in SERVERS]))
        say("Every client got the same server all three times (HAProxy counted 3 requests per client).")

        paths = [f"/video/{i}" for i in range(settings["paths"])]
        say(f"\n{len(paths)} paths, each asked three times with a different query string, to balance uri:")
        servers_of = who_serves_paths(lab, paths)
        per_server = Counter(next(iter(s)) for s in servers_of.values() if len(s) == 1)
        say(table(["server", "paths"], [[s, per_server[s]] for s in SERVERS]))
        say(f"{sum(len(s) == 1 for s in servers_of.values())} of {len(paths)} paths kept one server "
            "whatever the query string.")

        say("\nNow app3 stops. Once HAProxy has marked it DOWN, the same clients ask again:")

        def while_down():
            # The outage takes several seconds of checks: say what is under way.
            say("  (app3 is DOWN; the clients ask again, then app3 starts and HAProxy's checks bring it UP ...)")
            return {name: who_serves(clients, frontend) for name, (frontend, _) in SOURCE_BACKENDS.items()}

        out = lab.outage("app3", [backend for _, backend in SOURCE_BACKENDS.values()], during=while_down)
        after = out.result
        counts = {name: moved(before[name], after[name]) for name in SOURCE_BACKENDS}
        say(table(["clients", "consistent", "map-based"],
                  [[row, counts["consistent"][row], counts["map-based"][row]] for row in counts["consistent"]]))
        say(f"(app3 was marked DOWN {out.down - out.stopped:.1f} s after it stopped; it has been started again.)")
        back = who_serves(clients, "http_front")
        say(f"With app3 UP again, {sum(back[c] == before['consistent'][c] for c in back)} of {len(back)} "
            "clients are back on the server they had at first (consistent hashing).")
        say("Expected: with consistent hashing only app3's clients move, and come back with it; map-based\n"
            "hashing re-deals nearly everyone, about two clients in three.")
    return {"answers": answers, "counted": counted["lbtot"], "before": before, "after": after, "back": back}
