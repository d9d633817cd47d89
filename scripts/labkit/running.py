"""A started lab: what the CLI, the demos, the exercise checkers and the tests all take."""

import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable

from . import client, haproxy, stats
from .errors import LabkitError
from .labs import Lab
from .runtimes import Runtime, named
from .state import Record

SERVICE_TIMEOUT = 60  # seconds for a restarted service to pass its own health check
STATUS_TIMEOUT = 30   # seconds for HAProxy to mark a server DOWN or UP


@dataclass(frozen=True)
class Outage:
    """The moments of one outage, on the clock the caller gave, and what ran meanwhile."""

    stopped: float  # just before the stop (or kill) was sent
    gone: float     # the stop had ended: nothing of the service runs (while it stops, it may still answer)
    down: float     # HAProxy marked the service DOWN in every backend named
    started: float  # just before the service was started again
    up: float       # HAProxy marked it UP again
    result: Any     # what `during` returned


class RunningLab:
    """A started lab, with what its users need to drive it and look at it."""

    def __init__(self, lab: Lab, record: Record, started: bool = True):
        self.lab = lab
        self.record = record
        self.started = started  # False when it was already up before this start was asked
        self.runtime: Runtime = named(record.runtime)
        self.frontends = record.frontends
        self.url = next(iter(self.frontends.values()))
        self.stats_url = record.stats

    def __str__(self) -> str:
        return str(self.lab)

    def answers_in_turn(self, count: int, path: str = "/", frontend: str | None = None):
        url = self.frontends[frontend] if frontend else self.url
        return client.answers_in_turn(url + path, count)

    def counters(self, backend: str, field: str) -> Counter:
        return Counter(stats.counters(self.stats_url, backend, field))

    @contextmanager
    def counting(self, backend: str, *fields: str):
        """HAProxy's counters for `backend` over the `with` block: on leaving it, the dict
        yielded holds {field: Counter of what each server's counter grew by} (lbtot if no
        field is named)."""
        fields = fields or ("lbtot",)

        def read():
            rows = stats.server_rows(stats.rows(self.stats_url), backend)
            return {f: Counter({r["svname"]: int(r[f] or 0) for r in rows}) for f in fields}

        before, grown = read(), {}
        yield grown
        after = read()
        grown.update({f: after[f] - before[f] for f in fields})

    def runtime_api(self, command: str) -> str:
        """HAProxy's answer to a Runtime API command, through the lab's stats socket."""
        if not self.record.runtime_api:
            raise LabkitError(f"{self.lab}'s haproxy.cfg opens no Runtime API (a global `stats socket ipv4@...`, "
                              "or a `listen` that relays a port to the stats socket, as lab 13's)")
        return stats.runtime_api(self.record.runtime_api, command)

    def wait_until_checked(self, timeout: float = stats.CHECK_TIMEOUT) -> None:
        stats.wait_until_checked(self.stats_url, timeout)

    def wait_for_first_checks(self) -> None:
        stats.wait_until_checked(self.stats_url, until="first")

    def stop_service(self, service: str, kill: bool = False) -> None:
        # Until its first check passes, HAProxy holds a server one failure from DOWN (its
        # health starts at `rise`): taken down then, it would fall after one failed check,
        # not after `fall` of them as the config says and the labs measure.
        self.wait_for_first_checks()
        self.runtime.stop_service(self.record, service, kill)

    def start_service(self, service: str, timeout: float = SERVICE_TIMEOUT) -> None:
        self.runtime.start_service(self.record, service, time.monotonic() + timeout)

    def signal_service(self, service: str, signum: int) -> None:
        self.wait_for_first_checks()  # as stop_service does
        self.runtime.signal_service(self.record, service, signum)

    def wait_for_status(self, wanted: dict[tuple[str, str], str], timeout: float = STATUS_TIMEOUT) -> float:
        return stats.wait_for_status(self.stats_url, wanted, timeout)

    def outage(self, service: str, backends: list[str], kill: bool = False,
               during: Callable[[], Any] = lambda: None, clock: Callable[[], float] = time.monotonic) -> Outage:
        """Stop `service` (SIGKILL or docker kill with kill=True), wait until HAProxy marks
        it DOWN in each of `backends`, run `during()`, start it again and wait until HAProxy
        marks it UP. It is started again even when something in between fails."""
        down_in = {(backend, service): "DOWN" for backend in backends}
        self.wait_for_first_checks()  # before the clock: `stopped` is just before the stop
        stopped = clock()
        self.stop_service(service, kill)
        gone = clock()
        try:
            self.wait_for_status(down_in)
            down = clock()
            result = during()
        finally:
            started = clock()
            self.start_service(service)
            self.wait_for_status(dict.fromkeys(down_in, "UP"))
        return Outage(stopped, gone, down, started, clock(), result)

    def clients(self, count: int = 0, hosts: list[int] | None = None):
        """A context of clients with distinct source addresses: `count` of them, or one per
        host number in `hosts` (127.0.N.host locally, host of the lab's subnet in Docker)."""
        return self.runtime.clients(self.record, count, hosts)

    def service_host(self, service: str):
        """(testinfra host, pid there) of one of the lab's services."""
        return self.runtime.service_host(self.record, service)

    def haproxy(self):
        """(testinfra host, haproxy's pid there, its config's path there, `haproxy -c` command)."""
        return self.runtime.haproxy_host(self.record)

    def haproxy_log(self) -> str:
        return self.runtime.haproxy_log(self.record)

    def haproxy_version(self) -> str:
        """'2.6', say: the HAProxy that runs this lab (its recorded outputs depend on it)."""
        return haproxy.major_minor(self.runtime.haproxy_says_version(self.record))

    def diagnostics(self) -> str:
        return self.runtime.diagnostics(self.record)

    def promised_ports(self) -> set[int]:
        """The ports the lab's URLs name: what `labkit status` tells the learner to open."""
        urls = [*self.frontends.values(), self.stats_url or ""]
        return {int(url.split("/")[2].rsplit(":", 1)[1]) for url in urls if url}
