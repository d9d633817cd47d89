"""Two runtimes behind one interface:

    require()                     raise, saying how to get it, when it cannot run here
    haproxy_environment(env, lab) the haproxy service's environment for this runtime
    start(plan, record, deadline) returns once every service passes its health check
    alive(record), stop(record)
    stop_service(record, name, kill=False), start_service(record, name, deadline)
    signal_service(record, name, signum)
    clients(record, count, hosts) a context of clients with distinct source addresses
    service_host(record, name)    testinfra host and pid of one service
    haproxy_host(record)          testinfra host, pid, config path, `haproxy -c` command
    haproxy_log(record)           what HAProxy has printed so far
    haproxy_says_version(record)  what `haproxy -v` prints where the lab runs
    diagnostics(record)           the state and logs of every service, for a failed test
    dead_service_is_silent        whether connections to a killed service time out (True)
                                  or are refused at once (False)
"""

from concurrent.futures import ThreadPoolExecutor


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
