"""The kit's load: browsers and an API client, as Locust users, against one of a lab's
frontends. `make load-N` runs it against any running lab. By hand, with lab 5 up (the
users named last: Impatient is for benchmarks):

    .venv/bin/locust -f scripts/labkit/locustfile.py --host http://127.0.0.1:8500 \
        --haproxy-stats http://127.0.0.1:8504/stats --web-host 127.0.0.1 Visitor ApiClient

Every request is named by the server that answered it (its X-Backend header), so that
Locust's statistics come per server. At the start and the end of a run, the listeners
below read HAProxy's own counters, so that what Locust counted can be set against them.
"""

import csv
import io
import json
import urllib.request
import uuid

from locust import FastHttpUser, between, constant, constant_throughput, events, task


@events.init_command_line_parser.add_listener
def haproxy_options(parser):
    parser.add_argument("--haproxy-stats", default="", help="HAProxy's stats page, to read its counters from")
    parser.add_argument("--haproxy-counts", default="", help="where to write how many requests each server answered")


def answered(stats_url: str) -> dict[str, int]:
    """{"backend/server": responses}: how many HTTP answers each server has given since
    HAProxy started (its hrsp_1xx to hrsp_5xx and hrsp_other; health checks not counted).
    Unlike lbtot, this counts a request that waited in the queue for a free server, and
    counts a redispatched request once, for the server that answered it."""
    with urllib.request.urlopen(stats_url + ";csv", timeout=5) as answer:
        rows = csv.DictReader(io.StringIO(answer.read().decode().lstrip("# ")))
        classes = ["hrsp_1xx", "hrsp_2xx", "hrsp_3xx", "hrsp_4xx", "hrsp_5xx", "hrsp_other"]
        return {f"{r['pxname']}/{r['svname']}": sum(int(r[c] or 0) for c in classes)
                for r in rows if r["svname"] not in ("FRONTEND", "BACKEND")}


@events.test_start.add_listener
def read_counters_before(environment, **kwargs):
    # Read rather than reset (`clear counters` on the Runtime API would also do): the
    # stats page and anyone else watching keep their totals.
    if environment.parsed_options.haproxy_stats:
        environment.counters_before = answered(environment.parsed_options.haproxy_stats)


@events.test_stop.add_listener
def read_counters_after(environment, **kwargs):
    options = environment.parsed_options
    if options.haproxy_stats and options.haproxy_counts:
        after = answered(options.haproxy_stats)
        picked = {server: count - environment.counters_before.get(server, 0) for server, count in after.items()}
        with open(options.haproxy_counts, "w") as out:
            json.dump({server: count for server, count in picked.items() if count}, out)


class Visitor(FastHttpUser):
    """Someone at a browser: a page, a pause to read it, the next page."""

    weight = 3  # three of every four users
    wait_time = between(0.05, 0.15)

    def on_start(self):
        # Each user logs in once, as it starts: here, a session id of its own, sent as a
        # cookie with every request it makes.
        self.session = uuid.uuid4().hex

    def on_stop(self):
        self.session = None  # logged out

    @task
    def page(self):
        fetch(self, {"Cookie": f"session={self.session}"})


class ApiClient(FastHttpUser):
    """A program calling an API: 20 requests a second at most, however fast the answers."""

    weight = 1
    wait_time = constant_throughput(20)

    @task
    def call(self):
        fetch(self, {"Accept": "application/json"})


class Impatient(FastHttpUser):
    """No pause at all: the next request the moment an answer comes. The kit runs these
    alone (`make load-N IMPATIENT=1`) to find how much a lab, or Locust itself, can do."""

    wait_time = constant(0)

    @task
    def hammer(self):
        fetch(self, {})


def fetch(user, headers):
    with user.client.get("/", headers=headers, catch_response=True) as answer:
        # Named by who answered: Locust's table then has a row per server. An answer
        # without the header (HAProxy's own 503, say) is one row of its own, "none".
        answer.request_meta["name"] = answer.headers.get("X-Backend", "none")
