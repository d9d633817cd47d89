"""Two runtimes behind one interface, `Runtime`: Docker Compose, and local processes."""

from typing import Protocol

from ..errors import LabkitError
from ..state import Record
from . import docker, local


class Runtime(Protocol):
    name: str
    # Whether connections to a killed service time out (True) or are refused at once (False).
    dead_service_is_silent: bool

    def require(self) -> None:
        """Raise, saying how to get it, when this runtime cannot run here."""

    def haproxy_environment(self, environment: dict[str, str], lab) -> dict[str, str]:
        """The haproxy service's environment for this runtime."""

    def start(self, plan, record: Record, deadline: float, say) -> None:
        """Start every service; return once each passes its health check."""

    def alive(self, record: Record) -> bool: ...

    def stop(self, record: Record) -> None: ...

    def stop_service(self, record: Record, service: str, kill: bool = False) -> None: ...

    def start_service(self, record: Record, service: str, deadline: float) -> None: ...

    def signal_service(self, record: Record, service: str, signum: int) -> None: ...

    def clients(self, record: Record, count: int = 0, hosts: list[int] | None = None):
        """A context of clients with distinct source addresses: its `addresses`, and
        `answers(address, frontend, ...)` and `answers_each(addresses, frontend, ...)`."""

    def service_host(self, record: Record, service: str):
        """(testinfra host, pid there) of one service."""

    def haproxy_host(self, record: Record):
        """(testinfra host, pid, config path, `haproxy -c` command) of HAProxy."""

    def haproxy_log(self, record: Record) -> str:
        """What HAProxy has printed so far."""

    def haproxy_says_version(self, record: Record) -> str:
        """What `haproxy -v` prints where the lab runs."""

    def diagnostics(self, record: Record) -> str:
        """The state and logs of every service, for a failed test's report."""


RUNTIMES = {"local": local.LocalRuntime, "docker": docker.DockerRuntime}


def named(name: str) -> Runtime:
    if name not in RUNTIMES:
        raise LabkitError(f"RUNTIME must be auto, docker or local, not {name!r}")
    return RUNTIMES[name]()


def choose(requested: str | None, say=print) -> Runtime:
    """auto: Docker when an engine answers and the labs' images can be had, else the local
    processes, saying why in one line when an engine answers."""
    requested = requested or "auto"
    if requested == "auto":
        reasons = []
        for name in ("docker", "local"):
            runtime = named(name)
            try:
                runtime.require()
                if reasons and docker.engine_answers():
                    say(f"RUNTIME=auto runs this lab locally: {reasons[0].split(chr(10))[0].removeprefix('[docker] ')}")
                return runtime
            except LabkitError as error:
                reasons.append(f"[{name}] {error}")
        raise LabkitError("Neither runtime can run here.\n\n" + "\n\n".join(reasons))
    runtime = named(requested)
    runtime.require()
    return runtime


def ask_every_client(clients, frontend: str, path: str = "/", count: int = 1) -> dict:
    """{client address: its answers}."""
    return clients.answers_each(clients.addresses, frontend, path, count)
