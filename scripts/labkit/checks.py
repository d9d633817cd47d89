"""Checks every lab's suite runs: a lab's test file imports them, and pytest runs them there
with that lab's `lab` fixture, in each runtime.

    from labkit.checks import *  # noqa: F401,F403

After the check of HAProxy's start-up log, one runs the lab's demonstration (`make
lab-N`'s) on the freshly started lab and compares it with the docs page, and one runs the
exercise's check on the untouched config, and one types the page's "Check it yourself"
commands. The rest look inside HAProxy's host with pytest-testinfra: this machine for the
local runtime, the haproxy container for Docker.

A lab with a Runtime API also imports test_the_runtime_api_answers_this_machine_only.
"""


import os
import shlex
import subprocess
import sys

from . import charts, compose, page_checks, paths, recording

# In this order: pytest runs a module's tests in the order their names were bound. HAProxy's
# log is read before any server has gone down (which HAProxy logs as a warning), and the
# demo needs the lab as `make lab-N` leaves it, before any other traffic.
__all__ = ["test_haproxy_started_without_warnings", "test_make_lab_shows_what_its_docs_page_shows",
           "test_the_untouched_exercise_fails_its_check_with_a_hint",
           "test_the_pages_own_commands_print_what_it_shows",
           "test_haproxy_runs_the_labs_config", "test_haproxy_runs_without_root",
           "test_haproxy_listens_where_the_lab_says", "test_haproxy_accepts_its_config",
           "test_backends_run_with_the_labs_environment",
           "test_backends_run_without_root", "test_nothing_listens_beyond_loopback"]


def process_status(host, pid) -> dict[str, str]:
    """/proc/PID/status as a dict: the official and Debian-made images have no ps."""
    lines = host.file(f"/proc/{pid}/status").content_string.splitlines()
    return dict(line.split(":\t", 1) for line in lines if ":\t" in line)


def process_environment(host, pid) -> dict[str, str]:
    raw = host.run(f"cat /proc/{pid}/environ").stdout
    return dict(item.split("=", 1) for item in raw.split("\0") if "=" in item)


def listening_tcp(host) -> set[tuple[str, int]]:
    """(address, port) of every listening IPv4 TCP socket the host sees, read from
    /proc/net/tcp: the official and Debian-made images have neither ss nor netstat."""
    found = set()
    for line in host.file("/proc/net/tcp").content_string.splitlines()[1:]:
        fields = line.split()
        address, port = fields[1].split(":")
        if fields[3] == "0A":  # LISTEN
            ip = ".".join(str(int(address[i:i + 2], 16)) for i in (6, 4, 2, 0))
            found.add((ip, int(port, 16)))
    return found


def test_make_lab_shows_what_its_docs_page_shows(lab, demo_run, request):
    """What `make lab-N` prints once the lab is up is what the lab's docs page shows (the
    text itself where the lab is deterministic, else its shape), from the lab's files as
    they are now. `make docs-outputs` records it."""
    deterministic = lab.lab.manifest.get("demo", {}).get("deterministic", True)
    recording.check(recording.lab_output(lab.lab, lab.runtime.name), demo_run.output,
                    update=request.config.getoption("--update-outputs"),
                    where=f"HAProxy {lab.haproxy_version()}", sources=recording.sources_digest(lab.lab),
                    compare=(lambda text: text) if deterministic else recording.skeleton)
    charts.check(lab.lab, lab.runtime.name, update=request.config.getoption("--update-outputs"))


def test_the_untouched_exercise_fails_its_check_with_a_hint(lab):
    """The lab's own config is the exercise's starting point: its checker must find it not
    done yet, with a hint (a checker that cannot fail is worthless). `make check-lab-N`
    runs the same checker on the learner's copy."""
    hints = lab.lab.load("exercise/check").check(lab)
    assert hints and all(len(hint) > 40 for hint in hints), hints
    # Each with a second hint, nearer the answer, for `make check-lab-N HINT=2`.
    assert all(len(getattr(hint, "closer", "")) > 40 and hint.closer != hint for hint in hints), hints


def test_the_pages_own_commands_print_what_it_shows(lab, demo_run, tmp_path):
    """The commands under the page's "Check it yourself", typed as the learner would in the
    kit's folder after `make lab-N` (demo_run: lab 12's table holds the demo's clients),
    print what the page shows, in the runtime the page shows them for."""
    steps = [s for s in page_checks.steps(page_checks.page(lab.lab)) if lab.runtime.name in s.runtimes]
    assert steps, f"docs/labs/{lab.lab.name}.md has no {page_checks.HEADING!r} commands for {lab.runtime.name}"
    # The kit's folder as the learner has it: in a test worker, the lab's state (its TLS
    # certificate, say) is in the worker's share of .labkit.
    (tmp_path / ".labkit").symlink_to(paths.state_dir())
    (tmp_path / ".venv").symlink_to(paths.ROOT / ".venv")
    # As `make lab-N` leaves the lab: a test before this one may have had a server down.
    lab.wait_until_checked()
    no_proxy = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy", "all_proxy")}
    for step in steps:
        result = subprocess.run(["bash", "-c", step.command], cwd=tmp_path, capture_output=True, text=True,
                                timeout=120, env=no_proxy)
        assert result.returncode == 0, f"$ {step.command}\n{result.stdout}{result.stderr}"
        assert result.stdout.rstrip() + "\n" == step.output, f"$ {step.command}"


def test_haproxy_runs_the_labs_config(lab):
    host, pid, config, _ = lab.haproxy()
    assert process_status(host, pid)["Name"] == "haproxy"
    command_line = host.file(f"/proc/{pid}/cmdline").content_string.split("\0")
    assert command_line[command_line.index("-f") + 1] == config


def test_haproxy_listens_where_the_lab_says(lab):
    host, *_ = lab.haproxy()
    bind_address = "127.0.0.1" if lab.runtime.name == "local" else "0.0.0.0"
    listening = listening_tcp(host)
    for port in lab.promised_ports():
        assert (bind_address, port) in listening, (port, sorted(listening))


def test_haproxy_accepts_its_config(lab):
    host, _, _, check = lab.haproxy()
    result = host.run(check)
    assert result.rc == 0, result.stdout + result.stderr


def test_haproxy_started_without_warnings(lab):
    """Some warnings only show when HAProxy starts, never under `haproxy -c`; a learner
    would rightly ask what each one means."""
    complaints = [line for line in lab.haproxy_log().splitlines() if "[WARNING]" in line or "[ALERT]" in line]
    assert not complaints, complaints


def test_haproxy_runs_without_root(lab):
    """In its container HAProxy runs as a user of its own; on your machine, as you: the kit
    never asks for more than it needs."""
    host, pid, _, _ = lab.haproxy()
    real, effective, *_ = process_status(host, pid)["Uid"].split()
    if lab.runtime.name == "docker":
        assert real != "0" and effective != "0", "haproxy runs as root in its container"
    else:
        assert int(effective) == os.geteuid(), "haproxy runs as another user than the kit"


def test_backends_run_with_the_labs_environment(lab):
    """Each backend runs the one backend app, with the environment the lab's compose file
    gives it (the local runtime changes only where it listens)."""
    services = compose.load_services(lab.lab.compose_file, os.environ)
    for service in compose.services_with_role(services, "backend"):
        host, pid = lab.service_host(service.name)
        env = process_environment(host, pid)
        given = {k: v for k, v in service.environment.items() if not (lab.runtime.name == "local" and k == "PORT")}
        assert {k: env.get(k) for k in given} == given, service.name
        command_line = host.file(f"/proc/{pid}/cmdline").content_string.split("\0")
        assert command_line[1].endswith("app.py"), command_line


def test_backends_run_without_root(lab):
    services = compose.load_services(lab.lab.compose_file, os.environ)
    for service in compose.services_with_role(services, "backend"):
        host, pid = lab.service_host(service.name)
        real, effective, *_ = process_status(host, pid)["Uid"].split()
        if lab.runtime.name == "docker":
            assert real != "0" and effective != "0", f"{service.name} runs as root in its container"
        else:
            assert int(effective) == os.geteuid(), f"{service.name} runs as another user than the kit"


def test_nothing_listens_beyond_loopback(lab):
    """Safe by default: what the lab offers is reachable from this machine only."""
    if lab.runtime.name == "docker":
        from .runtimes.docker import client, project_containers

        for container in project_containers(client(), lab.record.project):
            for bindings in (container.attrs["HostConfig"].get("PortBindings") or {}).values():
                for binding in bindings or []:
                    assert binding["HostIp"] == "127.0.0.1", (container.name, binding)
    else:
        import psutil

        for name, info in lab.record.processes.items():
            process = psutil.Process(info["pid"])
            for member in [process, *process.children(recursive=True)]:
                for connection in member.net_connections(kind="inet"):
                    if connection.status == psutil.CONN_LISTEN:
                        assert connection.laddr.ip == "127.0.0.1", (name, connection.laddr)


def test_the_runtime_api_answers_this_machine_only(lab):
    """The Runtime API can take every server out: this machine reaches it, nothing else
    does, neither another address locally nor another container of the lab's network."""
    assert "Name: HAProxy" in lab.runtime_api("show info")
    port = lab.record.runtime_api.rsplit(":", 1)[1]
    if lab.runtime.name == "local":
        said = subprocess.run([sys.executable, "-c", ASK_RUNTIME_API, "127.0.0.1", port, f"127.0.{lab.lab.number}.10"],
                              capture_output=True, text=True, check=True).stdout
    else:
        services = compose.load_services(lab.lab.compose_file, os.environ)
        host, _ = lab.service_host(compose.services_with_role(services, "backend")[0].name)
        said = host.check_output(f"python3 -c {shlex.quote(ASK_RUNTIME_API)} haproxy {port}")
    assert said.strip() == "no answer", said


# What a client elsewhere gets from the Runtime API's port: run with HOST PORT [SOURCE].
ASK_RUNTIME_API = """
import socket, sys
host, port, *source = sys.argv[1:]
try:
    with socket.create_connection((host, int(port)), timeout=5, source_address=(source[0], 0) if source else None) as s:
        s.sendall(b"show info\\n")
        got = s.recv(100)
except (ConnectionResetError, BrokenPipeError):  # cut off: at once, or as it wrote
    got = b""
print(repr(got) if got else "no answer")
"""
