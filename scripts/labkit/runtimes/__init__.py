"""Two runtimes behind one interface: require, haproxy_environment, start (returns once\nevery service answers its health check), alive, stop, haproxy_host."""

from ..errors import LabkitError
from . import docker, local

RUNTIMES = {"local": local.LocalRuntime, "docker": docker.DockerRuntime}


def named(name: str):
    if name not in RUNTIMES:
        raise LabkitError(f"RUNTIME must be auto, docker or local, not {name!r}")
    return RUNTIMES[name]()


def choose(requested: str | None):
    """auto: Docker when an engine answers, else the local processes."""
    requested = requested or "auto"
    if requested == "auto":
        reasons = []
        for name in ("docker", "local"):
            runtime = named(name)
            try:
                runtime.require()
                return runtime
            except LabkitError as error:
                reasons.append(f"[{name}] {error}")
        raise LabkitError("Neither runtime can run here.\n\n" + "\n\n".join(reasons))
    runtime = named(requested)
    runtime.require()
    return runtime


def ask_every_client(clients, frontend: str, path: str = "/", count: int = 1) -> dict:
    """{client address: its answers}, the clients asking side by side."""
    with ThreadPoolExecutor(8) as pool:
        answers = pool.map(lambda address: clients.answers(address, frontend, path, count), clients.addresses)
        return dict(zip(clients.addresses, answers))
