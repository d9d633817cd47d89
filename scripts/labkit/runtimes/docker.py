"""The Docker runtime: the lab's compose.yaml under Docker Compose, v2 or v1."""

import concurrent.futures
import functools
import hashlib
import ipaddress
import json
import os
import shutil
import shlex
import signal
import subprocess
import time

from .. import compose, compose_v2, haproxy, images, paths, state
from ..images import BACKEND_IMAGE
from ..client import Answer
from ..errors import LabkitError, interrupts_held
from ..state import Record

PROJECT_LABEL = "com.docker.compose.project"
# Containers the kit runs beside a lab's services, with its project label: not services.
BESIDE_THE_SERVICES = {"client", "config-check"}
CLIENT_USER = "10001:10001"  # the backend image's user (backends/Dockerfile)
PROBE_PAUSE = 0.05  # seconds between the kit's tries of a service's health probe
PROBE_FLOOR = 5  # seconds a service just started gets to pass it, whatever the deadline
DOWN_TIMEOUT = 90  # seconds for `compose down`, which takes a few when the engine is well

NO_ENGINE = """\
No Docker engine answers here ({reason}).
Start Docker (Docker Desktop, or `sudo systemctl start docker` on Linux) and try again,
or run the lab without Docker: RUNTIME=local make lab-N"""


_engine = None


def client():
    """The engine, asked once per process: a new client for each question cost a ping each."""
    global _engine
    if _engine is None:
        import docker

        try:
            engine = docker.from_env(timeout=120)
            engine.ping()
        except docker.errors.DockerException as error:
            raise LabkitError(NO_ENGINE.format(reason=str(error).splitlines()[0][:200])) from None
        _engine = engine
    return _engine


def engine_if_any():
    """The engine, or None where none answers."""
    try:
        return client()
    except LabkitError:
        return None


def engine_answers() -> bool:
    return engine_if_any() is not None


COMPOSE = "LABKIT_COMPOSE"  # v2, v1, or auto (v2 where there is one, else v1)
COMPOSE_V1 = ["docker-compose"]


def is_compose_v1(command: list[str]) -> bool:
    return command == COMPOSE_V1 and _docker_compose_is_v1()


@functools.cache
def _docker_compose_is_v1() -> bool:
    if not shutil.which("docker-compose"):
        return False
    said = subprocess.run([*COMPOSE_V1, "version", "--short"], capture_output=True, text=True).stdout
    return said.startswith("1.")  # Docker Desktop's docker-compose is v2 under the old name


@functools.cache
def compose_command() -> list[str]:
    """Docker Compose as LABKIT_COMPOSE asks: `docker compose` (v2) where it answers, else
    the kit's own v2 (compose_v2.py), else docker-compose (v1); asked once per process."""
    wanted = os.environ.get(COMPOSE, "auto")
    if wanted not in ("auto", "v1", "v2"):
        raise LabkitError(f"{COMPOSE} must be v2, v1 or auto, not {wanted!r}")
    if wanted == "v1":
        if not is_compose_v1(COMPOSE_V1):
            raise LabkitError(f"{COMPOSE}=v1, and docker-compose 1.x is not here: sudo apt-get install docker-compose")
        return COMPOSE_V1
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if compose_v2.binary().exists():  # before asking docker-compose its version, which takes 0.3 s
        return [str(compose_v2.binary())]
    if shutil.which("docker-compose") and not is_compose_v1(COMPOSE_V1):
        return COMPOSE_V1  # v2 under its old name
    if wanted == "v2":
        return [str(compose_v2.fetch())]
    if shutil.which("docker-compose"):
        return COMPOSE_V1
    raise LabkitError(
        "Docker Compose is missing: install the compose plugin (`docker compose`) or docker-compose,\n"
        "or run the lab without Docker: RUNTIME=local make lab-N"
    )


# How long an interrupted compose may take to finish what it asked the engine for.
COMPOSE_GRACE = 30


def run_compose(record: Record, arguments: list[str], log_path, env=None,
                timeout: float | None = None) -> subprocess.CompletedProcess:
    """Docker Compose on the lab's file, with the variables the kit adds (it interpolates
    the whole file even to take the lab down). After `timeout` seconds compose is ended and
    its status is None."""
    command = [*record.compose, "-p", record.project, "-f", record.compose_file, *arguments]
    env = {**os.environ, **record.compose_env, **(env or {})}
    with open(log_path, "a") as log:
        log.write(f"$ {' '.join(command)}\n")
        log.flush()
        process = None
        try:
            with interrupts_held():
                process = subprocess.Popen(
                    command, env=env, stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT, start_new_session=True,
                )
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.write(f"(ended after {timeout:.0f}s: compose had not finished)\n")
            os.killpg(process.pid, signal.SIGKILL)  # `docker compose` runs the plugin as a child
            process.wait()
            return subprocess.CompletedProcess(command, None)
        except BaseException:
            # Interrupted: let compose finish first (it has a session of its own, so the
            # Ctrl-C did not reach it), then the caller tears down what it made. A compose
            # left running, or ended halfway, creates containers after the teardown has
            # looked (seen under load: two of lab 5's three).
            if process is None:
                raise
            try:
                process.wait(COMPOSE_GRACE)
            except (subprocess.TimeoutExpired, KeyboardInterrupt):  # or a second Ctrl-C: end it now
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            raise
    return subprocess.CompletedProcess(command, process.returncode)


def log_tail(path, lines=25) -> str:
    return "\n".join(open(path, errors="replace").read().splitlines()[-lines:])


def kit_containers(engine, label_filter: str):
    # The SDK lists, then inspects each container: one removed in between (Compose replaces
    # containers while it starts a lab, `make down` removes them) is gone, not an error.
    return engine.containers.list(all=True, filters={"label": label_filter}, ignore_removed=True)


def project_containers(engine, project: str):
    return kit_containers(engine, f"{PROJECT_LABEL}={project}")


def service_containers(engine, project: str):
    """The containers of the lab's own services, without those the kit runs beside them."""
    return [c for c in project_containers(engine, project)
            if c.labels.get("labkit.role") not in BESIDE_THE_SERVICES]


STUCK_NETWORK = (
    "Docker refuses to delete network {name} although nothing uses it: a known fault of the\n"
    "engine (https://github.com/moby/moby/issues/42119). It holds no container and no port, and\n"
    "the labs still run; restarting Docker clears it.")


def stuck_file():
    # The checkout's, also in a test worker: what one worker found stuck, the end-of-run
    # check and `make down` must know too.
    return paths.checkout_state_dir() / "stuck-networks.json"


def stuck_network_ids() -> set[str]:
    try:
        return set(json.loads(stuck_file().read_text()))
    except (OSError, ValueError):
        return set()


def is_stuck(resource) -> bool:
    """A network the engine refused to delete although no container is attached to it."""
    return (type(resource).__name__ == "Network" and resource.id in stuck_network_ids()
            and not (resource.attrs.get("Containers") or {}))


def labels(resource) -> dict:
    return resource.attrs.get("Labels") or resource.attrs.get("Config", {}).get("Labels") or {}


def kit_resources(engine, include_stuck: bool = False) -> list:
    """Every container, network and volume of any kit lab (in a test worker: of its labs),
    found by the compose project label; without the networks the engine refused to delete while empty, unless asked."""
    found = []
    for kind in (kit_containers(engine, PROJECT_LABEL),
                 engine.networks.list(filters={"label": PROJECT_LABEL}),
                 engine.volumes.list(filters={"label": PROJECT_LABEL})):
        found += [r for r in kind if labels(r).get(PROJECT_LABEL, "").startswith(paths.project_prefix())]
    return [r for r in found if include_stuck or not is_stuck(r)]


def describe(resource) -> str:
    kind = type(resource).__name__.lower()
    return f"{kind} {resource.name}"


def remove(resource) -> bool:
    """Remove a container, network or volume; False for an empty network the engine refuses
    to delete (it is then remembered as stuck, and reported, not counted as left behind)."""
    import docker

    try:
        if type(resource).__name__ == "Container":
            resource.remove(force=True, v=True)
        else:
            resource.remove()
        return True
    except docker.errors.NotFound:
        return True
    except docker.errors.APIError as error:
        if type(resource).__name__ != "Network" or "active endpoints" not in str(error):
            raise
        resource.reload()
        if resource.attrs.get("Containers"):
            raise
        stuck_file().parent.mkdir(parents=True, exist_ok=True)
        stuck_file().write_text(json.dumps(sorted(stuck_network_ids() | {resource.id})))
        return False


def remove_empty_networks(engine) -> list[str]:
    """Remove every kit network no container uses (what a crashed run left); return the
    notes for those the engine refuses to delete."""
    notes = []
    for network in engine.networks.list(filters={"label": PROJECT_LABEL}):
        network.reload()
        if labels(network).get(PROJECT_LABEL, "").startswith(paths.project_prefix()) and not network.attrs.get("Containers"):
            if not remove(network):
                notes.append(STUCK_NETWORK.format(name=network.name))
    return notes


# How check_config runs `haproxy -c`: a change to it must not trust what the old one passed.
CHECK_RECIPE = "haproxy -c -f, network none, each service at 127.0.0.1"


def passed_check_file(engine, plan):
    """Where the kit notes that this config passed `haproxy -c` in this HAProxy image with
    this environment: a warm start of an unchanged lab skips the check's container (half a
    second of the engine's time). None for a lab with a certificate, made anew each start."""
    if "TLS_DIR" in plan.haproxy_env:
        return None
    seen = json.dumps([CHECK_RECIPE, engine.images.get(images.HAPROXY_IMAGE).id, plan.lab.config.read_text(),
                       sorted(plan.haproxy_env.items()), sorted(plan.services)])
    return paths.state_dir() / "passed-checks" / hashlib.sha256(seen.encode()).hexdigest()


class DockerRuntime:
    name = "docker"
    # A killed container takes its address with it: nothing answers there any more, not
    # even with a refusal, so a health check of it waits out its timeout.
    dead_service_is_silent = True

    def require(self) -> None:
        engine = client()
        compose_command()
        reason = images.why_none_can_be_had(engine)
        if reason:
            raise LabkitError(f"{reason}.\nLoad a workshop archive (make images-load FILE=...), or connect to the internet once.")

    def haproxy_environment(self, environment: dict[str, str], lab) -> dict[str, str]:
        return environment

    def start(self, plan, record: Record, deadline: float, say=print) -> None:
        """Compose creates the lab's network and containers; the kit starts them, HAProxy
        last, once every backend passes its own health probe (the healthcheck of its
        compose service, run by the kit inside the container until it passes). Started
        together, HAProxy's first check would find a backend not listening yet. Docker's
        own probe, which compose's depends_on waits for, first runs a whole interval after
        the start, and each probe costs the engine an exec: the kit's one exec per service
        answers the moment a backend listens, and Docker's interval can be long."""
        engine = client()
        record.project, record.compose_file = plan.lab.project, str(plan.lab.compose_file)
        record.compose, record.compose_env = compose_command(), plan.kit_env
        state.save(record)
        run_dir = paths.run_dir(plan.lab.number)
        log = run_dir / "compose.log"
        images.ensure_built(engine, log, say)
        # The images are built above only when what they are made from has changed. While
        # compose creates the containers, `haproxy -c` checks the config: a broken one
        # stops here with HAProxy's own words, before anything runs.
        with concurrent.futures.ThreadPoolExecutor() as pool:
            checked = pool.submit(self.check_config, engine, plan, record.project)
            result = run_compose(record, ["up", "--no-start", "--remove-orphans", "--no-build"], log)
            checked.result()
        if result.returncode != 0:
            raise LabkitError(f"Docker Compose could not start {plan.lab}. The end of {paths.shown(log)}:\n{log_tail(log)}")
        containers = {c.labels.get("com.docker.compose.service"): c for c in service_containers(engine, record.project)}
        missing = sorted(set(plan.services) - set(containers))
        if missing:
            raise LabkitError(f"Docker Compose did not create {', '.join(missing)} for {plan.lab}; see {paths.shown(log)}")
        backends = [name for name, service in plan.services.items() if service.role != "haproxy"]
        # A backend takes about 0.7 s to listen: they boot together. The first failure, or a
        # Ctrl-C, ends the wait at once: the caller's stop then removes the containers, which
        # ends the probes still running in the other threads.
        pool = concurrent.futures.ThreadPoolExecutor(max_workers=len(backends))
        try:
            futures = [pool.submit(self.start_and_wait, containers[name], deadline) for name in backends]
            concurrent.futures.wait(futures, return_when=concurrent.futures.FIRST_EXCEPTION)
            for future in futures:
                if future.done() and future.exception():
                    raise future.exception()
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        haproxy_name = compose.haproxy_service(plan.services, plan.lab.compose_file).name
        self.start_and_wait(containers[haproxy_name], deadline)

    def start_and_wait(self, container, deadline: float) -> None:
        import docker

        try:
            container.start()
        except docker.errors.APIError as error:  # a port taken meanwhile, a mount that fails ...
            name = container.labels.get("com.docker.compose.service", container.name)
            raise LabkitError(f"Docker could not start {name}: {error.explanation or error}") from None
        self.wait_healthy(container, deadline)

    def check_config(self, engine, plan, project: str) -> None:
        """`haproxy -c` on the lab's file in a throwaway container of the lab's own HAProxy
        image, before anything starts: a broken config stops here with HAProxy's message
        naming the lab's file and line. With no network, each service name is made to
        resolve on its own (--add-host), as the local runtime maps server addresses.
        The container carries the lab's project label: interrupted before the SDK removes
        it, it is stopped with the lab and found by `make down` (a soak stopped there left
        one, unlabelled, that nothing of the kit could see)."""
        import docker

        inside = "/usr/local/etc/haproxy/haproxy.cfg"
        hosts = {name: "127.0.0.1" for name in plan.services}
        passed = passed_check_file(engine, plan)
        if passed and passed.exists():
            return
        try:
            engine.containers.run(
                images.HAPROXY_IMAGE, ["-c", "-f", inside], remove=True, network_mode="none",
                labels={PROJECT_LABEL: project, "labkit.role": "config-check"},
                extra_hosts=hosts, environment=plan.haproxy_env,
                volumes={str(plan.lab.config): {"bind": inside, "mode": "ro"},
                         **({str(paths.tls_dir(plan.lab.number)): {"bind": plan.haproxy_env["TLS_DIR"], "mode": "ro"}}
                            if "TLS_DIR" in plan.haproxy_env else {})},
                stdout=True, stderr=True,
            )
        except docker.errors.ContainerError as error:
            said = error.stderr.decode(errors="replace") if error.stderr else str(error)
            message = said.replace(inside, paths.shown(plan.lab.config)).strip()
            raise haproxy.rejected(paths.shown(plan.lab.config), message) from None
        if passed:
            passed.parent.mkdir(parents=True, exist_ok=True)
            passed.touch()

    def wait_healthy(self, container, deadline: float) -> None:
        """Until the container runs and passes its compose healthcheck's probe, tried every
        PROBE_PAUSE seconds inside it by one exec, up to the deadline."""
        import docker

        name = container.labels.get("com.docker.compose.service", container.name)
        probe = (container.attrs["Config"].get("Healthcheck") or {}).get("Test") or ["NONE"]
        if probe[0] == "CMD":
            once = shlex.join(probe[1:])
        elif probe[0] == "CMD-SHELL":
            once = shlex.join(["sh", "-c", probe[1]])
        else:
            once = "true"
        # Each try is bounded by the healthcheck's own timeout (a backend that accepts and never
        # answers would hold the exec for ever), the whole by the deadline, and a backend just
        # started gets a few seconds even where the deadline is near.
        each = max(1, int((container.attrs["Config"].get("Healthcheck") or {}).get("Timeout", 0) / 1e9) or 3)
        seconds = max(PROBE_FLOOR, int(deadline - time.monotonic()))
        loop = (f"end=$((SECONDS + {seconds})); until timeout {each} {once} >/dev/null 2>&1; do "
                f"((SECONDS < end)) || exit 1; sleep {PROBE_PAUSE}; done")
        try:
            passed = container.exec_run(["bash", "-c", loop]).exit_code == 0
        except docker.errors.APIError:  # it is not running (any more)
            passed = False
        if passed:
            return
        container.reload()
        state = container.attrs["State"]
        if state["Status"] != "running":
            raise LabkitError(
                f"The {name} container stopped (exit code {state.get('ExitCode')}). Its last lines:\n"
                + container.logs(tail=20).decode(errors="replace")
            )
        raise LabkitError(f"{name} did not pass its health check in time")

    def alive(self, record: Record) -> bool:
        if not record.project:
            return False  # saved before its start had got that far: nothing of it runs yet
        try:
            engine = client()
        except LabkitError:
            return False
        # Only a service makes the lab run: the config check's container, running for a
        # moment before any service starts, made the lab look up and then gone again.
        return any(c.status == "running" for c in service_containers(engine, record.project))

    def stop(self, record: Record) -> None:
        if not record.project:
            return
        run_dir = paths.run_dir(record.lab)
        run_dir.mkdir(parents=True, exist_ok=True)
        if os.path.exists(record.compose_file):
            # A stop must end, also when compose hangs on a stuck engine call: then the
            # sweep below removes the project's containers itself.
            run_compose(record, ["down", "--volumes", "--remove-orphans", "--timeout", "5"],
                        run_dir / "compose.log", timeout=DOWN_TIMEOUT)
        # Whatever `down` could not remove (a compose file edited into something invalid, say).
        try:
            engine = client()
        except LabkitError:
            return
        for resource in kit_resources(engine, include_stuck=True):
            if labels(resource).get(PROJECT_LABEL) == record.project:
                remove(resource)

    def container(self, record: Record, service: str):
        engine = client()
        found = [c for c in project_containers(engine, record.project)
                 if c.labels.get("com.docker.compose.service") == service]
        if not found:
            raise LabkitError(f"lab {record.lab} has no {service} container")
        return found[0]

    def stop_service(self, record: Record, service: str, kill: bool = False) -> None:
        """Stop one service's container: docker stop, or docker kill with kill=True."""
        container = self.container(record, service)
        container.kill() if kill else container.stop(timeout=5)
        container.wait(timeout=30)

    def signal_service(self, record: Record, service: str, signum: int) -> None:
        self.container(record, service).kill(signal=int(signum))

    def start_service(self, record: Record, service: str, deadline: float) -> None:
        """Start the same container again and wait until healthy. It keeps its name; Docker
        gives it back its address unless another container took it meanwhile, which is why
        lab 7, whose clients' container may come and go while a server is down, has HAProxy ask
        Docker's DNS again (resolvers) while other labs need not."""
        self.start_and_wait(self.container(record, service), deadline)

    def diagnostics(self, record: Record) -> str:
        """`docker compose ps` and the end of `docker compose logs`, for a failed test's report."""
        parts = []
        for arguments in (["ps"], ["logs", "--no-color", "--tail", "40"]):
            command = [*record.compose, "-p", record.project, "-f", record.compose_file, *arguments]
            result = subprocess.run(command, capture_output=True, text=True,
                                    env={**os.environ, **record.compose_env})
            parts.append(f"$ {' '.join(command)}\n{result.stdout}{result.stderr}")
        return "\n".join(parts)

    def haproxy_says_version(self, record: Record) -> str:
        return self.container(record, "haproxy").exec_run(["haproxy", "-v"]).output.decode(errors="replace")

    def haproxy_log(self, record: Record) -> str:
        return self.container(record, "haproxy").logs().decode(errors="replace")

    def clients(self, record: Record, count: int = 0, hosts: list[int] | None = None) -> "DockerClients":
        return DockerClients(record, hosts or list(range(10, 10 + count)))

    def service_host(self, record: Record, service: str):
        """(testinfra host, the service's pid there): its container, where it is PID 1."""
        import testinfra

        return testinfra.get_host(f"docker://{self.container(record, service).id}"), 1

    def haproxy_host(self, record: Record):
        """(testinfra host, haproxy's pid there, the config it runs, the `haproxy -c` command for it)."""
        config = "/usr/local/etc/haproxy/haproxy.cfg"
        return (*self.service_host(record, "haproxy"), config, f"haproxy -c -f {config}")


class DockerClients:
    """Clients with their own addresses on the lab's network: host h of the subnet its
    compose.yaml fixes, as the local runtime's leaves from 127.0.N.h. They are all in one
    small container made from the backend image (it carries backends/client.py), which
    puts every address on its eth0: a container each took about a second apiece, 40 s for
    lab 7's 40. It carries the lab's compose project label, so `make down` and the sweeps
    remove it with the lab."""

    def __init__(self, record: Record, hosts: list[int]):
        self.record, self.hosts = record, hosts
        self.container, self.addresses = None, []

    def __enter__(self):
        import docker

        engine = client()
        project = self.record.project
        networks = engine.networks.list(filters={"label": f"{PROJECT_LABEL}={project}"})
        if not networks:
            raise LabkitError(f"lab {self.record.lab} has no network to put clients on")
        network = networks[0]
        subnets = [c["Subnet"] for c in (network.attrs.get("IPAM") or {}).get("Config") or [] if "Subnet" in c]
        if not subnets:
            raise LabkitError(f"clients of lab {self.record.lab} need a subnet for its network in compose.yaml "
                              "(networks: default: ipam: config: - subnet: ...)")
        subnet = ipaddress.ip_network(subnets[0])
        self.addresses = [str(subnet[h]) for h in self.hosts]
        try:
            created = engine.api.create_container(
                # Root, with NET_ADMIN and NET_RAW of its own network namespace and nothing
                # else, to add and announce its addresses; the clients run as the image's user.
                BACKEND_IMAGE, ["sleep", "infinity"], name=f"{project}-clients-{os.getpid()}", user="0",
                labels={PROJECT_LABEL: project, "com.docker.compose.service": "clients",
                        "com.docker.compose.oneoff": "False", "labkit.role": "client"},
                host_config=engine.api.create_host_config(
                    read_only=True, cap_drop=["ALL"], cap_add=["NET_ADMIN", "NET_RAW"],
                    security_opt=["no-new-privileges:true"]),
                networking_config=engine.api.create_networking_config(
                    {network.name: engine.api.create_endpoint_config(ipv4_address=self.addresses[0])}),
            )
            self.container = engine.containers.get(created["Id"])
            self.container.start()
            extra = [f"{address}/{subnet.prefixlen}" for address in self.addresses[1:]]
            if extra:
                added = self.container.exec_run(
                    ["python3", "/app/client.py", *(arg for a in extra for arg in ("--add-address", a))])
                if added.exit_code != 0:
                    raise LabkitError(f"the clients' addresses could not be added: {added.output.decode(errors='replace')}")
        except docker.errors.APIError as error:  # an address a service of the lab already has, say
            self.__exit__()
            raise LabkitError(f"no client of lab {self.record.lab} could be made at {self.addresses[0]}: "
                              f"{error.explanation or error}") from None
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc):
        if self.container is not None:
            self.container.remove(force=True)
            self.container = None
        return False

    def answers(self, address: str, frontend: str, path: str = "/", count: int = 1,
                method: str = "GET", headers: dict | None = None) -> list[Answer]:
        return self.answers_each([address], frontend, path, count, method, headers)[address]

    def answers_each(self, addresses: list[str], frontend: str, path: str = "/", count: int = 1,
                     method: str = "GET", headers: dict | None = None) -> dict[str, list[Answer]]:
        """{address: its answers}: one `docker exec` for all of them, each client in turn."""
        # Inside the network HAProxy is the `haproxy` service, on the same port as outside.
        port = self.record.frontends[frontend].rsplit(":", 1)[1]
        header_args = [arg for name, value in (headers or {}).items() for arg in ("--header", f"{name}: {value}")]
        source_args = [arg for address in addresses for arg in ("--source", address)]
        result = self.container.exec_run(
            ["python3", "/app/client.py", f"http://haproxy:{port}{path}", str(count), *source_args,
             "--method", method, *header_args], user=CLIENT_USER)
        if result.exit_code != 0:
            raise LabkitError(f"clients {addresses[0]}... failed: {result.output.decode(errors='replace')[-500:]}")
        answers = {address: [] for address in addresses}
        for line in result.output.decode().splitlines():
            if line.strip():
                source, status, backend = line.split()
                answers[source].append(Answer(int(status), None if backend == "-" else backend))
        return answers
