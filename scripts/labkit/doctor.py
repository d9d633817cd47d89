"""`make doctor`: what this machine has for each runtime, what is missing, how to get it."""

import os
import shutil
import socket
import subprocess
import sys

from . import compose, haproxy, images, runner, state
from .errors import LabkitError
from .labs import all_labs
from .runtimes import docker as docker_runtime


def version_of(command: list[str]) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return (result.stdout + result.stderr).strip().splitlines()[0] if result.returncode == 0 else ""


def check_python() -> tuple[bool, str]:
    ok = sys.version_info >= (3, 11)
    return ok, f"Python {sys.version.split()[0]}" + ("" if ok else ": the kit needs 3.11 or newer")


def check_haproxy() -> tuple[bool, str]:
    try:
        binary = haproxy.find_binary()
    except LabkitError as error:
        return False, str(error)
    return True, f"{version_of([binary, '-v']) or 'haproxy'} ({binary})"


def check_openssl() -> tuple[bool, str]:
    found = shutil.which("openssl")
    return bool(found), (version_of([found, "version"]) if found else
                         "openssl is missing (lab 3 makes a certificate with it): sudo apt-get install openssl")


def check_loopback_clients() -> tuple[bool, str]:
    """Labs 4, 7, 12 and 14 send requests from addresses like 127.0.7.10, which Linux has and
    macOS has only with an alias per address."""
    try:
        with socket.socket() as s:
            s.bind(("127.0.7.10", 0))
        return True, "clients can leave from 127.0.N.x addresses (labs 4, 7, 12 and 14)"
    except OSError:
        return False, "127.0.7.10 is not a local address here: labs 4, 7, 12 and 14 need an alias per client address"


def check_docker() -> tuple[bool, str]:
    try:
        engine = docker_runtime.client()
        command = docker_runtime.compose_command()
    except LabkitError as error:
        return False, str(error)
    lines = [f"engine {engine.version().get('Version', '?')}, {version_of([*command, 'version'])}"]
    built = [i for i in images.KIT_IMAGES if images.present(engine, i)]
    official = [i for i in images.official_images() if images.present(engine, i)]
    debian = images.present(engine, images.DEBIAN_BASE)
    lines.append(f"kit images built: {', '.join(built) or 'none yet (the first lab builds them)'}")
    for network in docker_runtime.kit_resources(engine, include_stuck=True):
        if docker_runtime.is_stuck(network):
            lines += docker_runtime.STUCK_NETWORK.format(name=network.name).splitlines()
    if len(official) == len(images.official_images()):
        lines.append("base images: the official ones are here")
    elif debian:
        lines.append(f"base image: {images.DEBIAN_BASE} (made offline from Debian's packages)")
    else:
        lines.append("base images: none yet; the first lab pulls the official ones, or, with no registry,")
        lines.append("  builds one from Debian's packages (needs root and debootstrap: "
                     + ("both here)" if os.geteuid() == 0 and shutil.which("debootstrap") else "MISSING)"))
    return True, "\n".join(lines)


def check_ports() -> tuple[bool, str]:
    busy = []
    running = {r.lab for r in state.load_all()}
    for lab in all_labs():
        services = compose.load_services(lab.compose_file, os.environ)
        for setting in compose.haproxy_service(services, lab.compose_file).ports:
            if runner.port_in_use(int(setting.value)):
                owner = "in use by the lab itself (running)" if lab.number in running else "in use"
                busy.append(f"{setting.value} ({setting.variable}) {owner}")
    if not busy:
        return True, "every lab's port is free on 127.0.0.1"
    return False, "busy: " + "; ".join(busy) + "\n  move one with its variable, e.g. LAB5_HTTP_PORT=9500 make lab-5"


def report(say=print) -> int:
    checks = {name: check() for name, check in (
        ("python", check_python), ("docker", check_docker), ("haproxy", check_haproxy),
        ("openssl", check_openssl), ("loopback", check_loopback_clients), ("ports", check_ports))}
    say("What this machine has for the labs:\n")
    for name, (ok, text) in checks.items():
        first, *rest = text.splitlines()
        say(f"  {'ok  ' if ok else 'MISS'}  {name:<9} {first}")
        for line in rest:
            say(f"  {'':4}  {'':<9} {line}")
    docker_ready = checks["python"][0] and checks["docker"][0]
    local_ready = checks["python"][0] and checks["haproxy"][0]
    say("")
    say("Docker runtime: " + ("ready: RUNTIME=docker make lab-5" if docker_ready else "not available (see docker above)"))
    say("Local runtime:  " + ("ready: RUNTIME=local make lab-5" if local_ready else "not available (see haproxy above)"))
    if not (docker_ready or local_ready):
        say("\nNeither runtime can run here: install Docker or HAProxy, as the lines above say.")
        return 1
    return 0
