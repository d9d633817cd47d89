"""Lab 14's demonstration: a burst that fills the servers and waits in HAProxy's queue,
some of it past `timeout queue`; and a noisy client that a stick table limits while the
quiet ones go on, until its rate has fallen again."""

import time
from concurrent.futures import ThreadPoolExecutor

from labkit import stats
from labkit.client import answers_concurrently
from labkit.demo import table

LIMIT = 20  # requests per 10 s: the deny rule's `gt 20`
WINDOW = 10  # seconds: http_req_rate(10s)


def queue_row(lab) -> dict[str, str]:
    """The `queued` backend's own row of the stats CSV (qcur, qmax, ...)."""
    return next(r for r in stats.rows(lab.stats_url) if r["pxname"] == "queued" and r["svname"] == "BACKEND")


def queue_timeouts(lab) -> list[str]:
    """The lines of HAProxy's log for requests that ended in queue_front's queue (sQ)."""
    return [line for line in lab.haproxy_log().splitlines() if " queue_front " in line and " sQ" in line]


def burst(lab, settings, say) -> dict:
    count, hold = settings["burst"], settings["hold"]
    say(f"\n1 · A burst: {count} requests at once to /slow/{hold} (each holds its server {hold} s). Three\n"
        "servers take two each at a time (maxconn 2); the rest wait in HAProxy's queue, 1.5 s at most:")
    url = lab.frontends["queue_front"] + f"/slow/{hold}"
    queue_timeouts_before = len(queue_timeouts(lab))  # a lab already up may have had a burst
    with ThreadPoolExecutor(1) as pool:
        sending = pool.submit(answers_concurrently, url, count, count)
        time.sleep(hold / 2)  # the first six are being served, the rest queued
        during = queue_row(lab)
        answers = sending.result()
    after = queue_row(lab)
    ended_in_queue = len(queue_timeouts(lab)) - queue_timeouts_before
    groups = {"served at once": [a for a in answers if a.status == 200 and a.seconds < 1.5 * hold],
              "served after waiting": [a for a in answers if a.status == 200 and a.seconds >= 1.5 * hold],
              "refused after timeout queue": [a for a in answers if a.status != 200]}
    say(table(["requests", "count", "status", "took (client)"],
              [[name, len(got), " ".join(sorted({str(a.status) for a in got})) or "-",
                f"{min(a.seconds for a in got):.1f} to {max(a.seconds for a in got):.1f} s" if got else "-"]
               for name, got in groups.items()]))
    say(f"HAProxy's stats, {hold / 2:g} s in: {during['qcur']} requests in the queue; the most it held: "
        f"{after['qmax']}. Its log\nshows {ended_in_queue} requests ended in the queue (termination state sQ).")
    return {"answers": [(a.status, a.seconds) for a in answers], "qcur": int(during["qcur"]),
            "qmax": int(after["qmax"]), "queue_timeouts": ended_in_queue}


def request_rates(lab) -> dict[str, int]:
    """{client address: its http_req_rate} as the Runtime API's `show table` says now."""
    rates = {}
    for line in lab.runtime_api("show table limited_front").splitlines()[1:]:
        fields = dict(word.split("=", 1) for word in line.split()[1:] if "=" in word)
        if "key" in fields:
            rates[fields["key"]] = int(next(v for k, v in fields.items() if k.startswith("http_req_rate")))
    return rates


def rate_limit(lab, settings, say) -> dict:
    with lab.clients(hosts=settings["hosts"]) as clients:
        noisy, quiet = clients.addresses[0], clients.addresses[1:]
        say(f"\n2 · A rate limit: the noisy client {noisy} sends {settings['noisy']} requests in a row, then "
            f"{len(quiet)} quiet\nclients send {settings['quiet']} each. More than {LIMIT} in {WINDOW} s gets a 429:")
        denied_before = stats.frontend_counter(lab.stats_url, "limited_front", "dreq")
        began = time.monotonic()
        got = clients.answers_each([noisy], "limited_front", "/", settings["noisy"])
        noisy_took = time.monotonic() - began  # its first request left within this
        got.update(clients.answers_each(quiet, "limited_front", "/", settings["quiet"]))
        denied = stats.frontend_counter(lab.stats_url, "limited_front", "dreq") - denied_before
        rates = request_rates(lab)
        say(table(["client", "requests", "200", "429", "its rate (show table)"],
                  [[address, len(answers), sum(a.status == 200 for a in answers), sum(a.status == 429 for a in answers),
                    rates.get(address, "-")] for address, answers in got.items()]))
        say(f"HAProxy denied {denied} requests (the frontend's dreq counter).")
        # Until one more request would not pass the limit (the page explains how it falls).
        while request_rates(lab).get(noisy, 0) >= LIMIT and time.monotonic() - began < 3 * WINDOW:
            time.sleep(0.25)
        waited = time.monotonic() - began
        again = clients.answers_each([noisy], "limited_front", "/", 1)[noisy]
    say(f"The noisy client's rate fell below {LIMIT} {waited:.1f} s after its first request; its next request "
        f"got {again[0].status}.")
    return {"noisy": noisy, "answers": {address: [a.status for a in answers] for address, answers in got.items()},
            "denied": denied, "rates": rates, "waited": waited, "noisy_took": noisy_took, "again": again[0].status}


def demo(lab, say=print):
    settings = lab.lab.manifest["demo"]
    out = {"burst": burst(lab, settings, say), "rate": rate_limit(lab, settings, say)}
    say("Expected: six requests served at once, six after a second in the queue, three refused with a 503\n"
        "after 1.5 s; the noisy client's 21st request and later refused with a 429, every quiet one\n"
        "answered, and the noisy one let in again once its rate has fallen.")
    return out
