"""Lab 8's demonstration: how even random really is, and what a second draw buys."""

from collections import Counter

from labkit import bounds
from labkit.client import answers_concurrently, answers_in_turn
from labkit.demo import bar, measured, share, table


def spread(lab, backend, servers, send, say):
    """Send, then print each server's count (client and HAProxy) beside a third each;
    return the answers in the order sent and HAProxy's count."""
    answers, seen, counted = measured(lab, backend, send)
    n = len(answers)
    largest = max(seen.values(), default=0)
    say(table(["server", "client saw", "HAProxy lbtot", "expected", "observed", ""],
              [[s, seen[s], counted[s], share(1, len(servers)), share(seen[s], n), bar(seen[s], largest)]
               for s in servers]))
    return answers, counted


def demo(lab, say=print):
    settings = lab.lab.manifest["demo"]
    n = settings["requests"]
    servers = ["app1", "app2", "app3"]
    critical = bounds.chi2_critical(2, 1e-6)
    rings = {}
    for frontend, backend, title in (("http_front", "servers", "weight 256: 4096 ring points per server"),
                                      ("coarse_ring_front", "coarse_ring", "weight 1, as in the episode: 16 points each")):
        url = lab.frontends[frontend] + "/"
        say(f"\n{n} requests one after another to {url} ({title}):")
        answers, counted = spread(lab, backend, servers, lambda: answers_in_turn(url, n), say)
        rings[backend] = {"order": [a.backend for a in answers], "statuses": {a.status for a in answers},
                          "haproxy": counted}
        seen = Counter(rings[backend]["order"])
        statistic = bounds.chi2_statistic([seen[s] for s in servers], [1 / 3] * 3)
        say(f"chi-square against a third each: {statistic:.1f} "
            f"(an exactly fair split goes above {critical:.1f} once in a million runs)")

    count, clients = settings["choice_requests"], settings["clients"]
    say(f"\nThe power of two choices: {count} requests from {clients} clients at once, to app1, app2 and a slow")
    say("server, first with one random draw per request, then with two (the less busy one wins):")
    rows, choices = [], {}
    for frontend, backend, label in (("one_draw_front", "one_draw", "random(1)"),
                                      ("two_draws_front", "two_draws", "random(2)")):
        url = lab.frontends[frontend] + "/"
        answers, seen, counted = measured(lab, backend, lambda: answers_concurrently(url, count, clients))
        choices[backend] = {"client": seen, "haproxy": counted}
        rows.append([label, *(f"{seen[s]} ({counted[s]})" for s in ("app1", "app2", "slow")),
                     share(seen["slow"], count), f"{sum(a.seconds for a in answers) / count * 1000:.0f} ms"])
    say(table(["balance", "app1", "app2", "slow", "slow share", "mean wait"], rows))
    say("(each cell: answers the client saw (HAProxy's lbtot for the same run))")
    say("Expected: one draw sends the slow server about a third; with two it is chosen only when both\n"
        "draws land on it (1/3 x 1/3, about 11%), because otherwise it is the busier of the two.")
    return {**choices, "rings": rings}
