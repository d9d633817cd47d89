"""The local runtime: the real haproxy binary and the backend app as processes on 127.0.0.1.

Nothing is imitated. The only change to the lab's haproxy.cfg is the address of each
server: `app1:8000` (a container's name in Docker) becomes the local port app1 got.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import psutil

from .. import haproxy, paths, state, system
from ..client import answers_in_turn
from ..client import session as client_session
from ..compose import services_with_role
from ..errors import LabkitError, interrupts_held
from ..state import Record

# Every process the kit starts carries this variable (the state folder and lab number),
# so that a sweep can find them even if the state file is lost.
MARK = "LABKIT_MARK"
# ...and the service it is, so that a restarted backend is still the same one.
SERVICE = "LABKIT_SERVICE"


def mark(number: int) -> str:
    return f"{paths.state_dir()}#lab{number:02d}"


def free_ports(count: int) -> list[int]:
    """`count` different ports that are free on 127.0.0.1. Each is held until all are
    chosen: a port let go at once can be handed out again, and about 1 in 4000 draws of
    three gave two of them the same one; a lab then sent one backend's requests to the
    other."""
    with ExitStack() as held:
        sockets = [held.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]


def tail(path, lines=15) -> str:
    try:
        return "\n".join(open(path, errors="replace").read().splitlines()[-lines:])
    except OSError:
        return "(no log)"


def spawn(argv: list[str], env: dict[str, str], log_path) -> dict:
    """Start a process of the lab; its pid, start time and log. The caller holds interrupts
    (errors.interrupts_held) until the answer is in the record: a Ctrl-C in between would
    leave a process that the record, and so the stop, does not know."""
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [str(a) for a in argv],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own session: a Ctrl-C reaches the kit, which then stops it in order,
            # and the lab keeps running after `make lab-N` returns.
            start_new_session=True,
        )
    return {
        "pid": process.pid,
        "created": psutil.Process(process.pid).create_time(),
        "log": str(log_path),
    }


def running_process(info: dict) -> psutil.Process | None:
    """The process the record names, if it still runs: same pid and same start time,
    so a recycled pid is never mistaken for ours."""
    try:
        process = psutil.Process(info["pid"])
        if abs(process.create_time() - info["created"]) < 0.01 and process.status() != psutil.STATUS_ZOMBIE:
            return process
    except psutil.Error:
        pass
    return None


def stop_processes(processes: list[psutil.Process]) -> None:
    everything = []
    for process in processes:
        try:
            everything += [process, *process.children(recursive=True)]
            process.send_signal(signal.SIGTERM)
        except psutil.Error:
            pass
    gone, alive = psutil.wait_procs(everything, timeout=5)
    for process in alive:
        try:
            process.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(alive, timeout=5)


def wait_healthy(processes: dict, deadline: float) -> None:
    """Until each process runs and, if it has a URL, answers /healthz; fails at once if one dies."""
    pending = dict(processes)
    with client_session() as http:
        while pending:
            for name, info in list(pending.items()):
                if not running_process(info):
                    raise LabkitError(
                        f"{name} stopped while the lab was starting. The end of its log ({paths.shown(info['log'])}):\n"
                        f"{tail(info['log'])}"
                    )
                try:
                    if "url" not in info or http.get(info["url"] + "/healthz", timeout=1).status_code == 200:
                        del pending[name]
                except OSError:
                    pass
            if pending and time.monotonic() > deadline:
                logs = Path(next(iter(pending.values()))["log"]).parent
                raise LabkitError(f"{', '.join(pending)} did not answer in time; the logs are in {paths.shown(logs)}")
            time.sleep(0.05)


def base_environment(number: int) -> dict[str, str]:
    # A clean environment: a DELAY or PORT in the learner's shell must not leak into a backend.
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "SYSTEMROOT", "TZ")}
    return {**keep, "PYTHONUNBUFFERED": "1", MARK: mark(number)}


class LocalRuntime:
    name = "local"
    # A killed process leaves its port closed on a live address: connections are refused.
    dead_service_is_silent = False

    def require(self) -> None:
        """The haproxy binary; installed with apt where that can be done (see system.py)."""
        try:
            haproxy.find_binary()
        except LabkitError as error:
            # Only where it is not installed at all (not where it is off the PATH, say).
            if str(error) != haproxy.HOW_TO_GET_HAPROXY or not system.install(
                    "haproxy", "The local runtime runs the real haproxy binary"):
                raise
            haproxy.find_binary()

    def haproxy_environment(self, environment: dict[str, str], lab) -> dict[str, str]:
        """The haproxy service's environment with what differs outside a container: the
        address to bind, and where the lab's certificate is (Docker mounts it elsewhere)."""
        local = {"BIND_ADDR": os.environ.get("LABKIT_BIND_ADDR", "127.0.0.1")}
        if "TLS_DIR" in environment:
            local["TLS_DIR"] = str(paths.tls_dir(lab.number))
        return {**environment, **local}

    def start(self, plan, record: Record, deadline: float, say=print) -> None:
        """Backends first; HAProxy once they all answer, as compose's depends_on does.
        (Started together, HAProxy's first check finds a backend not listening yet and
        marks it DOWN, which also shifts where round robin begins.)"""
        binary = haproxy.find_binary()
        number = plan.lab.number
        run_dir = paths.run_dir(number)

        backends = services_with_role(plan.services, "backend")
        ports = dict(zip((service.name for service in backends), free_ports(len(backends))))
        config = run_dir / "haproxy.cfg"
        config.write_text(
            haproxy.map_server_addresses(
                plan.lab.config.read_text(), {name: f"127.0.0.1:{port}" for name, port in ports.items()}
            )
        )
        haproxy_env = {**base_environment(number), **plan.haproxy_env}
        # Before anything starts: a broken config stops here with HAProxy's own words.
        haproxy.check_config(binary, config, haproxy_env, shown_as=paths.shown(plan.lab.config))

        record.haproxy_binary, record.config, record.haproxy_env = binary, str(config), plan.haproxy_env
        for service in backends:
            env = {**base_environment(number), **service.environment,
                   "PORT": str(ports[service.name]), "BIND": "127.0.0.1", SERVICE: service.name}
            argv = [sys.executable, str(paths.BACKEND_APP)]
            with interrupts_held():  # a Ctrl-C lands once the process is in the record
                record.processes[service.name] = {
                    **spawn(argv, env, run_dir / f"{service.name}.log"),
                    "url": f"http://127.0.0.1:{ports[service.name]}", "argv": argv, "env": env,
                }
            state.save(record)
        wait_healthy(record.processes, deadline)
        with interrupts_held():
            record.processes["haproxy"] = spawn(
                [binary, "-W", "-db", "-f", config], {**haproxy_env, SERVICE: "haproxy"}, run_dir / "haproxy.log"
            )
        state.save(record)
        wait_healthy({"haproxy": record.processes["haproxy"]}, deadline)

    def alive(self, record: Record) -> bool:
        haproxy_info = record.processes.get("haproxy")
        return bool(haproxy_info and running_process(haproxy_info))

    def stop(self, record: Record) -> None:
        # HAProxy first, so it does not report its backends going down one by one.
        infos = list(reversed(record.processes.values()))
        recorded = [p for p in map(running_process, infos) if p]
        # And any process of this lab the record missed: a Ctrl-C can land between
        # starting a process and writing it down. The mark says it is ours.
        known = {p.pid for p in recorded}
        unrecorded = [p for p in marked_processes(record.lab) if p.pid not in known]
        stop_processes(recorded + unrecorded)

    def stop_service(self, record: Record, service: str, kill: bool = False) -> None:
        """Stop one backend: SIGTERM, or SIGKILL with kill=True (a crash, not a shutdown)."""
        process = running_process(record.processes[service])
        if process:
            process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            psutil.wait_procs([process], timeout=5)

    def signal_service(self, record: Record, service: str, signum: int) -> None:
        process = running_process(record.processes[service])
        if not process:
            raise LabkitError(f"{service} of lab {record.lab} is not running")
        process.send_signal(signum)

    def start_service(self, record: Record, service: str, deadline: float) -> None:
        """Start a stopped backend again, on the same port, and wait until it answers."""
        info = record.processes[service]
        if not running_process(info):
            with interrupts_held():
                info.update(spawn(info["argv"], info["env"], info["log"]))
            state.save(record)
        wait_healthy({service: info}, deadline)

    def diagnostics(self, record: Record) -> str:
        """Each process: running or not, and the end of its log, for a failed test's report."""
        parts = []
        for name, info in record.processes.items():
            state = "running" if running_process(info) else "NOT RUNNING"
            parts.append(f"--- {name} (pid {info['pid']}, {state}): {paths.shown(info['log'])}\n{tail(info['log'], 40)}")
        return "\n".join(parts)

    def haproxy_says_version(self, record: Record) -> str:
        return subprocess.run([record.haproxy_binary, "-v"], capture_output=True, text=True).stdout

    def haproxy_log(self, record: Record) -> str:
        return Path(record.processes["haproxy"]["log"]).read_text(errors="replace")

    def clients(self, record: Record, count: int = 0, hosts: list[int] | None = None) -> "LocalClients":
        return LocalClients(record, hosts or list(range(10, 10 + count)))

    def service_host(self, record: Record, service: str):
        """(testinfra host, the service's pid there): this machine, the recorded process."""
        import testinfra

        return testinfra.get_host("local://"), record.processes[service]["pid"]

    def haproxy_host(self, record: Record):
        """(testinfra host, haproxy's pid there, the config it runs, the `haproxy -c` command for it)."""
        import shlex

        env = " ".join(shlex.quote(f"{k}={v}") for k, v in record.haproxy_env.items())
        check = f"env {env} {shlex.quote(record.haproxy_binary)} -c -f {shlex.quote(record.config)}"
        return (*self.service_host(record, "haproxy"), record.config, check)


def describe(process: psutil.Process) -> str:
    """What a marked process is: its lab and service, not its pid (a restart changes that)."""
    try:
        env = process.environ()
        return f"process of lab {int(env[MARK].rsplit('#lab', 1)[1])}: {env.get(SERVICE, '?')} ({process.name()})"
    except (psutil.Error, KeyError, ValueError):
        return f"process {process.pid}"


def marked_processes(number: int | None = None) -> list[psutil.Process]:
    """Processes carrying this checkout's mark (of one lab, or of any), whatever the state
    files say."""
    prefix = f"{paths.state_dir()}#"
    found = []
    for process in psutil.process_iter():
        try:
            value = process.environ().get(MARK, "")
        except psutil.Error:
            continue
        if (value == mark(number)) if number is not None else value.startswith(prefix):
            found.append(process)
    return found


class LocalClients:
    """Clients with their own source addresses: on Linux every 127.x.y.z is the local
    machine, so lab N's client for host h leaves from 127.0.N.h (10, 11, ... by default)."""

    def __init__(self, record: Record, hosts: list[int]):
        if not all(1 <= h <= 254 for h in hosts):
            raise LabkitError(f"client hosts must be 1 to 254: {hosts}")
        self.frontends = record.frontends
        self.addresses = [f"127.0.{record.lab}.{h}" for h in hosts]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def answers_each(self, addresses: list[str], frontend: str, path: str = "/", count: int = 1,
                     method: str = "GET", headers: dict | None = None) -> dict:
        """{address: its answers}, the clients asking side by side."""
        with ThreadPoolExecutor(8) as pool:
            answers = pool.map(lambda address: self.answers(address, frontend, path, count, method, headers), addresses)
            return dict(zip(addresses, answers))

    def answers(self, address: str, frontend: str, path: str = "/", count: int = 1,
                method: str = "GET", headers: dict | None = None):
        try:
            return answers_in_turn(self.frontends[frontend] + path, count, address, method, headers)
        except LabkitError as error:
            raise LabkitError(f"{error}\n(clients leave from loopback addresses like {address}; "
                              "Linux has them all, other systems need an alias per address)") from None
