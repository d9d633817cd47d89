"""Locust against a running lab: `make load-N`.

Locust runs as a process of its own: importing it patches the standard library for gevent,
which the rest of the kit must not see. It runs headless, for a set time (and the kit's
timeout behind that), with the kit's locustfile; this module reads what it wrote: Locust's
statistics, one entry per server that answered, and HAProxy's counters over the run.
"""

import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from . import haproxy, paths, stats
from .demo import bar, share, table
from .errors import LabkitError

LOCUSTFILE = Path(__file__).with_name("locustfile.py")  # the users, for every lab
# Users still at work when the time is up finish their request (a slow server's answer
# may take a second), so that Locust has counted every request HAProxy passed on.
STOP_TIMEOUT = 5
UI_PORT = 8089  # Locust's own default, on 127.0.0.1
UI_STAYS = 300  # seconds the web UI stays up once its run is over
# The locustfile's users: a mix of visitors and API clients, or only users that never pause.
MIX, IMPATIENT = ["Visitor", "ApiClient"], ["Impatient"]


@dataclass
class LoadRun:
    """One Locust run against one frontend, as Locust and HAProxy counted it."""

    frontend: str
    backend: str | None
    users: int
    began: float  # the time (time.time()) Locust counted its first answer, and its last
    ended: float
    # {server: {response time in ms, rounded as Locust rounds it: how many}}, by X-Backend
    times: dict[str, Counter]
    failures: Counter  # {server: failed requests}
    picked: Counter  # {server: the HTTP answers HAProxy counted from it over the run (hrsp_*)}
    most_at_once: dict[str, int] = field(default_factory=dict)  # {server: HAProxy's smax}

    @property
    def seconds(self) -> float:
        return max(self.ended - self.began, 0.0)

    @property
    def served(self) -> Counter:
        return Counter({server: sum(times.values()) for server, times in self.times.items()})

    @property
    def requests(self) -> int:
        return sum(self.served.values())

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    def all_times(self) -> Counter:
        return sum(self.times.values(), Counter())

    def percentile(self, fraction: float, server: str | None = None) -> int:
        return percentile(self.times[server] if server else self.all_times(), fraction)


def percentile(times: Counter, fraction: float) -> int:
    """The response time (ms) that `fraction` of the requests took at most, as Locust
    reckons it (locust.stats.calculate_response_time_percentile): the largest time such
    that fewer than all but int(fraction * n) of the requests took less."""
    total, seen = sum(times.values()), 0
    for ms in sorted(times, reverse=True):
        seen += times[ms]
        if total - seen <= int(total * fraction):
            return ms
    return 0


def locust_command(url: str, users: int, spawn_rate: float, seconds: int, impatient: bool) -> list[str]:
    return [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--host", url,
            "-u", str(users), "-r", str(spawn_rate), "-t", f"{seconds}s", "--stop-timeout", str(STOP_TIMEOUT),
            "--loglevel", "WARNING", *(IMPATIENT if impatient else MIX)]


def locust_environment() -> dict[str, str]:
    # A learner's LOCUST_* settings or HTTP proxy must not change the kit's run.
    return {k: v for k, v in os.environ.items()
            if not k.startswith("LOCUST_") and k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}


def run(lab, frontend: str, users: int, spawn_rate: float, seconds: int, impatient: bool = False) -> LoadRun:
    """Locust's headless run against one of the lab's frontends; it stops by itself."""
    url = lab.frontends[frontend]
    backend = haproxy.default_backend(lab.lab.config.read_text(), frontend)
    with tempfile.TemporaryDirectory(prefix="labkit-load-") as folder:
        command = locust_command(url, users, spawn_rate, seconds, impatient) + [
            "--headless", "--only-summary", "--json-file", f"{folder}/stats", "--exit-code-on-error", "0"]
        if lab.stats_url:
            command += ["--haproxy-stats", lab.stats_url, "--haproxy-counts", f"{folder}/counts.json"]
        # Its own folder: Locust reads a locust.conf or pyproject.toml where it starts.
        done = subprocess.run(command, cwd=folder, env=locust_environment(), capture_output=True, text=True,
                              timeout=seconds + STOP_TIMEOUT + 60)
        if done.returncode != 0 or not Path(f"{folder}/stats.json").exists():
            raise LabkitError(f"Locust failed against {url} (exit {done.returncode}):\n"
                              + "\n".join(done.stderr.strip().splitlines()[-15:]))
        entries = json.loads(Path(f"{folder}/stats.json").read_text())
        counts = Path(f"{folder}/counts.json")
        picked = json.loads(counts.read_text()) if counts.exists() else {}
    times = {e["name"]: Counter({int(ms): n for ms, n in e["response_times"].items()}) for e in entries}
    failures = Counter({e["name"]: e["num_failures"] for e in entries if e["num_failures"]})
    began = min((e["start_time"] for e in entries), default=0)
    ended = max((e["last_request_timestamp"] or 0 for e in entries), default=0)
    in_backend = {key.split("/", 1)[1]: n for key, n in picked.items() if key.split("/", 1)[0] == backend}
    most = {}
    if lab.stats_url and backend:
        most = stats.counters(lab.stats_url, backend, "smax")
    return LoadRun(frontend, backend, users, began, ended, times, failures, Counter(in_backend), most)


def summary(result: LoadRun) -> str:
    return (f"{result.requests} requests in {result.seconds:.1f} s: {result.per_second:.0f} requests/s, "
            f"{result.failed} failed ({share(result.failed, result.requests)}); p50 {result.percentile(0.5)} ms, "
            f"p95 {result.percentile(0.95)} ms, p99 {result.percentile(0.99)} ms")


def server_table(result: LoadRun) -> str:
    """A row per server: what Locust counted, what HAProxy counted, and its times."""
    servers = sorted(set(result.served) | set(result.picked))
    largest = max(result.served.values(), default=0)
    rows = [[server, result.served.get(server, 0), result.picked.get(server, "-") if result.backend else "-",
             share(result.served.get(server, 0), result.requests), result.failures.get(server, 0),
             *(f"{result.percentile(p, server)} ms" if server in result.times else "-" for p in (0.5, 0.95, 0.99)),
             bar(result.served.get(server, 0), largest)]
            for server in servers]
    return table(["server", "Locust", "HAProxy", "share", "failed", "p50", "p95", "p99", ""], rows)


def counts_agree(result: LoadRun) -> bool:
    return dict(result.served) == dict(result.picked)


def ui(lab, frontend: str, users: int, spawn_rate: float, seconds: int, impatient: bool = False, say=print) -> int:
    """Locust's web UI against one frontend, on 127.0.0.1: the run starts at once and ends
    after `seconds`; the UI stays to be looked at for UI_STAYS more, or until Ctrl-C."""
    command = locust_command(lab.frontends[frontend], users, spawn_rate, seconds, impatient) + [
        "--web-host", "127.0.0.1", "--web-port", str(UI_PORT), "--autostart", "--autoquit", str(UI_STAYS)]
    if lab.stats_url:
        command += ["--haproxy-stats", lab.stats_url]
    say(f"Locust's web UI: http://127.0.0.1:{UI_PORT}/ ({users} users against {frontend}, for {seconds} s; "
        f"it stays {UI_STAYS // 60} min after, Ctrl-C ends it sooner)")
    with tempfile.TemporaryDirectory(prefix="labkit-load-") as folder:
        return subprocess.run(command, cwd=folder, env=locust_environment()).returncode
