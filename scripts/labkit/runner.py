"""Start, check, stop: the same steps for every lab, whatever the runtime."""

import errno
import os
import re
import shutil
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import compose, haproxy, paths, runtimes, state, stats, tls
from .errors import LabkitError, SettingError
from .labs import Lab, find_lab
from .running import RunningLab
from .state import Record
from .runtimes import docker as docker_runtime
from .runtimes import local as local_runtime

# Set by the test suite for each test: the labs it said it starts. Its workers run labs side
# by side, and a lab a test starts without saying so could meet the same lab, on the same
# ports, in another worker.
TEST_LABS = "LABKIT_TEST_LABS"
START_TIMEOUT = {"local": 30, "docker": 600}  # docker: a cold build happens inside


@dataclass
class Plan:
    """What a lab is, read from its folder, for one runtime."""

    lab: Lab
    kit_env: dict  # what the kit adds to the environment Docker Compose reads
    services: dict
    ports: list  # compose.Setting: the *_PORT settings of the haproxy service
    haproxy_env: dict
    frontends: dict
    stats: str | None
    runtime_api: str | None  # HOST:PORT of HAProxy's stats socket, where the lab has one


def plan(lab: Lab, runtime) -> Plan:
    # Docker Compose mounts the lab's config and its certificate (labs with tls = true) from here.
    kit_env = {"LABKIT_CONFIG": str(lab.config.resolve()), "LABKIT_TLS_DIR": str(paths.tls_dir(lab.number))}
    services = compose.load_services(lab.compose_file, {**os.environ, **kit_env})
    haproxy_service = compose.haproxy_service(services, lab.compose_file)
    env = runtime.haproxy_environment(haproxy_service.environment, lab)
    text = lab.config.read_text()
    frontends, stats_url = haproxy.listeners(text, env)
    return Plan(lab, kit_env, services, haproxy_service.ports, env, frontends, stats_url,
                haproxy.runtime_api_address(text, env))


def offline_check_input(lab: Lab, config: Path, folder: Path, seen_as: Path | None = None) -> tuple[Path, dict]:
    """What `haproxy -c` needs to check `config` (the lab's, or one written for it) with
    nothing running: a copy in `folder` with the server addresses mapped as the local
    runtime maps them, and its environment. seen_as: where `folder` is for the haproxy
    that reads it (inside a container, say)."""
    seen_as = seen_as or folder
    services = compose.load_services(lab.compose_file, os.environ)
    backends = compose.services_with_role(services, "backend")
    env = runtimes.named("local").haproxy_environment(compose.haproxy_service(services, lab.compose_file).environment, lab)
    mapped = folder / f"{lab.name}.{config.stem}.cfg"
    mapped.write_text(haproxy.map_server_addresses(config.read_text(), {s.name: "127.0.0.1:1" for s in backends}))
    if lab.manifest.get("tls"):  # HAProxy reads the certificate while checking
        tls.make_certificate(folder / "tls")
        env["TLS_DIR"] = str(seen_as / "tls")
    return mapped, env


def check_offline(lab: Lab) -> str:
    """`haproxy -c` on the lab's config with the local haproxy: what HAProxy said, or a
    LabkitError with its message."""
    with tempfile.TemporaryDirectory() as folder:
        config, env = offline_check_input(lab, lab.config, Path(folder))
        return haproxy.check_config(haproxy.find_binary(), config, env, shown_as=paths.shown(lab.config))


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        # Like HAProxy itself: a closed connection's TIME_WAIT does not make the port busy.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def check_ports_free(the_plan: Plan) -> None:
    for setting in the_plan.ports:
        port = int(setting.value)
        if not port_in_use(port):
            continue
        holder = "another program"
        for record in state.load_all():
            urls = [*record.frontends.values(), record.stats or ""]
            if any(url.split("/")[2].endswith(f":{port}") for url in urls if url):
                holder = f"lab {record.lab} of this kit (stop it with `make down-{record.lab}`)"
        variable = setting.variable or setting.key
        raise LabkitError(
            f"Port {port} on 127.0.0.1 is already in use by {holder}, and {the_plan.lab} needs it "
            f"for {setting.key}.\nFree it, or move this lab to another port, e.g.:\n"
            f"  {variable}={port + 1000} make lab-{the_plan.lab.number}"
        )


def check_settings(lab: Lab, env=os.environ, say=print) -> None:
    """The LAB<N>_* variables a learner sets. A port must be a number, and none of the lab's
    ports the same as another; either mistake stops here, in one line. A variable the lab
    does not read (LAB5_PORT for LAB5_HTTP_PORT, say) would be ignored without a word, so
    it gets a warning that names the ones it reads."""
    prefix = f"LAB{lab.number}_"
    known = sorted(set(re.findall(rf"\$\{{({prefix}\w+)", lab.compose_file.read_text())))
    for name in sorted(name for name in env if name.startswith(prefix) and name not in known):
        say(f"labkit: warning: {lab} has no setting {name}, so it is ignored. Its settings: {', '.join(known)}")
    services = compose.load_services(lab.compose_file, env)
    ports = compose.haproxy_service(services, lab.compose_file).ports

    def instead(setting) -> str:
        """A setting that would work: its default moved by 1000, as the docs move ports."""
        return f"{setting.variable or setting.key}={int(compose.interpolate(setting.raw, {})) + 1000}"

    taken = {}
    for setting in ports:
        if not (setting.value.isdigit() and 1 <= int(setting.value) <= 65535):
            raise SettingError(f"{setting.variable or setting.key}={setting.value} is not a port "
                               f"(a number from 1 to 65535); try {instead(setting)}")
        taken.setdefault(int(setting.value), []).append(setting)
    for port, settings in taken.items():
        if len(settings) > 1:
            # Name the one the learner set: the other is most likely its default.
            moved = next((s for s in settings if s.variable in env), settings[-1])
            other = next(s for s in settings if s is not moved)
            raise SettingError(f"{moved.variable}={port} is already {other.variable}'s port, and {lab} needs "
                               f"one for each; try {instead(moved)}")


def up(lab: Lab, requested_runtime: str | None = None, say=print, checked: bool = True) -> RunningLab:
    """Start a lab: every backend answers its health check and HAProxy answers. With
    `checked`, also wait until HAProxy's own checks have passed every server, which it
    spreads over `inter` (1.3 s of lab 5's 2 s); `make lab-N` does not wait for them
    (RunningLab.stop_service does, before it takes a server down).

    Returns the running lab, whose `started` is False when it was already up. If anything
    fails or is interrupted, everything this call started is stopped before it returns."""
    declared = os.environ.get(TEST_LABS)
    if declared is not None and str(lab.number) not in declared.split(","):
        raise LabkitError(f"This test starts {lab}, but names only lab(s) {declared or 'none'}: "
                          f"add @pytest.mark.labs({lab.number}) (see labkit/pytest_plugin.py).")
    existing = state.load(lab.number)
    if existing:
        if runtimes.named(existing.runtime).alive(existing):
            if requested_runtime not in (None, "auto", existing.runtime):
                raise LabkitError(
                    f"{lab} is already up in the {existing.runtime} runtime. To run it with "
                    f"{requested_runtime} instead, stop it first: make down-{lab.number}")
            say(f"{lab} is already up ({existing.runtime} runtime); not starting a second copy.")
            return RunningLab(lab, existing, started=False)
        stop(existing)  # what is left of a lab that died: clear it, then start afresh

    check_settings(lab, say=say)
    runtime = runtimes.choose(requested_runtime, say)
    the_plan = plan(lab, runtime)
    check_ports_free(the_plan)
    record = Record(lab=lab.number, runtime=runtime.name, frontends=the_plan.frontends,
                    stats=the_plan.stats, runtime_api=the_plan.runtime_api, started_at=time.time())
    state.save(record)  # before anything starts, so that `make down` always finds it
    try:
        say(f"Starting {lab} with the {runtime.name} runtime ...")
        began = time.monotonic()
        run_dir = paths.run_dir(lab.number)
        shutil.rmtree(run_dir, ignore_errors=True)
        run_dir.mkdir(parents=True)
        if lab.manifest.get("tls"):
            tls.make_certificate(paths.tls_dir(lab.number))
        runtime.start(the_plan, record, time.monotonic() + START_TIMEOUT[runtime.name], say)
        stats.wait_until_checked(record.stats, until="passed" if checked else "answers")
        say(f"  up and healthy in {time.monotonic() - began:.1f}s")
    except BaseException:
        say(f"  stopping whatever had started for {lab} ...")
        stop(record)
        raise
    return RunningLab(lab, record)


def stop(record: Record) -> None:
    runtimes.named(record.runtime).stop(record)
    shutil.rmtree(paths.tls_dir(record.lab), ignore_errors=True)  # the throwaway key goes too
    state.remove(record.lab)


def running() -> list[Record]:
    """The labs that run, of this checkout (or test worker) and of the workers inside it."""
    return [r for share in paths.shares() for _, r in _records_of(share) if runtimes.named(r.runtime).alive(r)]


def leftovers() -> list[str]:
    """Everything of the kit that still exists: state files, marked processes,
    containers, networks and volumes of a labkit-lab* compose project (in a test worker:
    of its own share)."""
    found = []
    for share in paths.shares():
        with paths.as_worker(share):
            found += [f"state file of lab {r.lab}" for r in state.load_all()]
            found += [f"TLS key {paths.shown(key)}" for key in paths.state_dir().glob("run/*/tls/*.pem")]
            found += [local_runtime.describe(p) for p in local_runtime.marked_processes()]
    # Asked before and after every test: one connection to the engine, not two.
    engine = docker_runtime.engine_if_any()
    if engine:
        found += [docker_runtime.describe(r) for r in docker_runtime.kit_resources(engine)]
    return found


def down_all(say=print) -> None:
    records = [record for share in paths.shares() for record in _records_of(share)]
    if not records:
        say("No lab of the kit is running.")
    for share, record in records:
        say(f"Stopping lab {record.lab} ({record.runtime}{', test worker ' + share if share else ''}) ...")
        with paths.as_worker(share):
            stop(record)
    for share in paths.shares():
        with paths.as_worker(share):
            # A safety net for what no state file names any more (a lost state file, say).
            for tls_dir in paths.state_dir().glob("run/*/tls"):
                shutil.rmtree(tls_dir, ignore_errors=True)
            strays = local_runtime.marked_processes()
            if strays:
                say(f"Stopping {len(strays)} stray process(es) of the kit ...")
                local_runtime.stop_processes(strays)
    engine = docker_runtime.engine_if_any()
    if engine:
        for resource in docker_runtime.kit_resources(engine):
            say(f"Removing stray {docker_runtime.describe(resource)} ...")
            docker_runtime.remove(resource)
        for note in docker_runtime.remove_empty_networks(engine):
            say(note)


def _records_of(share: str) -> list[tuple[str, Record]]:
    with paths.as_worker(share):
        return [(share, record) for record in state.load_all()]


def down(number: int | str | None = None, say=print) -> None:
    if number is None:
        down_all(say)
        return
    lab = find_lab(number)
    record = state.load(lab.number)
    if record:
        say(f"Stopping {lab} ({record.runtime}) ...")
        stop(record)
    else:
        say(f"{lab} is not running.")
