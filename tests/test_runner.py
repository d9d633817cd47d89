"""Unit tests of the runner's pieces that need no lab running."""

import os
import socket
import subprocess
import sys

import pytest

from labkit import compose, haproxy, paths, runner, runtimes
from labkit.errors import LabkitError
from labkit.labs import find_lab
from labkit.state import Record


@pytest.mark.parametrize("text, env, expected", [
    ("${A:-8500}", {}, "8500"),
    ("${A:-8500}", {"A": ""}, "8500"),
    ("${A-8500}", {"A": ""}, ""),
    ("${A:-8500}", {"A": "9000"}, "9000"),
    ("127.0.0.1:${A:-1}:${A:-1}", {"A": "7"}, "127.0.0.1:7:7"),
    ("$$STATS_PORT", {"STATS_PORT": "1"}, "$STATS_PORT"),
    ("$A and ${B}", {"A": "x"}, "x and "),
])
def test_compose_interpolation(text, env, expected):
    assert compose.interpolate(text, env) == expected


def test_a_setting_names_the_variable_that_moves_it():
    setting = compose.Setting("HTTP_PORT", "${LAB5_HTTP_PORT:-8500}", "8500")
    assert setting.variable == "LAB5_HTTP_PORT"
    assert compose.Setting("BIND_ADDR", "0.0.0.0", "0.0.0.0").variable is None


def test_extends_merges_environment_and_labels():
    lab = find_lab(5)
    services = compose.load_services(lab.compose_file, {"LAB5_HTTP_PORT": "9123"})
    app1 = services["app1"]
    assert app1.role == "backend"
    assert app1.environment == {"PORT": "8000", "BACKEND_NAME": "app1"}
    proxy = compose.haproxy_service(services, lab.compose_file)
    assert proxy.environment["HTTP_PORT"] == "9123"
    assert proxy.environment["BIND_ADDR"] == "0.0.0.0"


@pytest.mark.parametrize("line, env, expected", [
    ('bind "${BIND_ADDR}:${HTTP_PORT}"', {"BIND_ADDR": "127.0.0.1", "HTTP_PORT": "8500"},
     ["bind", "127.0.0.1:8500"]),
    ('bind "${ADDR-10.0.0.1}:80"', {}, ["bind", "10.0.0.1:80"]),
    ("server app1 app1:8000 check   # the first", None, ["server", "app1", "app1:8000", "check"]),
    (r"acl x hdr(host) -i a\ b 'c d' \"e\"", None, ["acl", "x", "hdr(host)", "-i", "a b", "c d", '"e"']),
    ("log-format '%{+Q}o $x'", {"x": "1"}, ["log-format", "%{+Q}o $x"]),
])
def test_config_words_split_like_haproxy(line, env, expected):
    assert haproxy.words(line, env) == expected


def test_mapping_server_addresses_keeps_every_line_in_place():
    text = find_lab(5).config.read_text()
    mapped = haproxy.map_server_addresses(text, {"app1": "127.0.0.1:1111", "app3": "127.0.0.1:3333"})
    assert len(mapped.splitlines()) == len(text.splitlines())
    changed = [(a, b) for a, b in zip(text.splitlines(), mapped.splitlines()) if a != b]
    assert changed == [
        ("    server app1 app1:8000 check", "    server app1 127.0.0.1:1111 check"),
        ("    server app3 app3:8000 check", "    server app3 127.0.0.1:3333 check"),
    ]


@pytest.mark.parametrize("duration, expected", [("500ms", 0.5), ("2s", 2.0), ("1m", 60.0), ("250", 0.25)])
def test_haproxy_times_in_seconds(duration, expected):
    assert haproxy.seconds(duration) == expected


def test_abnormal_endings_are_the_log_lines_of_requests_that_did_not_end_normally():
    # Lines as lab 10's HAProxy printed them under Docker, a server-side abort added.
    ok = ('192.168.208.1:53186 [22/Nov/2026:03:05:50.677] no_redispatch_front servers_no_redispatch/app1 '
          '0/0/0/0/0 200 160 - - ---- 1/1/0/0/0 0/0 "GET / HTTP/1.1"')
    not_found = ('192.168.208.1:45370 [22/Nov/2026:03:05:50.529] http_front servers/app2 0/0/0/1/1 404 179 '
                 '- - ---- 1/1/0/0/0 0/0 "GET /nothere HTTP/1.1"')
    gave_up = ('192.168.208.1:53192 [22/Nov/2026:03:05:50.683] no_redispatch_front servers_no_redispatch/app2 '
               '0/0/-1/-1/4009 503 217 - - sC-- 1/1/0/0/3 0/0 "GET / HTTP/1.1"')
    cut = ('192.168.208.1:53300 [22/Nov/2026:03:05:51.001] http_front servers/app3 0/0/0/1/2 200 143 '
           '- - SD-- 3/3/2/1/+1 0/0 "GET / HTTP/1.1"')
    health = ("[WARNING]  (8) : Server servers/app2 is DOWN, reason: Layer4 timeout, check duration: 501ms. "
              "2 active and 0 backup servers left. 0 sessions active, 0 requeued, 0 remaining in queue.")
    log = "\n".join([ok, not_found, health, gave_up, ok, cut])
    assert haproxy.abnormal_endings(log) == [gave_up, cut]
    assert haproxy.abnormal_endings("\n".join([ok, not_found, health])) == []


def test_health_check_timing_comes_from_defaults_or_haproxys_own():
    config = "defaults\n    timeout connect 1s\n    default-server check inter 300ms fall 4\nbackend b\n"
    assert haproxy.health_checks(config) == haproxy.HealthChecks(inter=0.3, fall=4, rise=2, timeout=0.3)
    # Without `timeout check` a check may take all of `inter`; with it, `timeout connect` if shorter.
    assert haproxy.health_checks("defaults\n    timeout connect 1s\n") == haproxy.HealthChecks(2.0, 3, 2, 2.0)
    with_check = "defaults\n    timeout connect 1s\n    timeout check 1s\n"
    assert haproxy.health_checks(with_check) == haproxy.HealthChecks(2.0, 3, 2, 1.0)


def test_listeners_of_lab_5():
    env = {"BIND_ADDR": "0.0.0.0", "HTTP_PORT": "8500", "STATS_PORT": "8504"}
    frontends, stats = haproxy.listeners(find_lab(5).config.read_text(), env)
    assert frontends == {"http_front": "http://127.0.0.1:8500"}
    assert stats == "http://127.0.0.1:8504/stats"


def test_listener_schemes_follow_mode_and_ssl():
    text = """
defaults
    mode http
frontend plain
    bind :80
frontend secure
    bind :443 ssl crt /x.pem
frontend raw
    mode tcp
    bind :4000
listen stats
    bind :9000
    stats uri /s
"""
    frontends, stats = haproxy.listeners(text, {})
    assert frontends == {"plain": "http://127.0.0.1:80", "secure": "https://127.0.0.1:443",
                         "raw": "tcp://127.0.0.1:4000"}
    assert stats == "http://127.0.0.1:9000/s"


def test_the_runtime_api_is_a_stats_socket_on_a_tcp_port_or_a_relay_to_it():
    env = {"BIND_ADDR": "0.0.0.0", "API_PORT": "9109"}
    assert haproxy.runtime_api_address(find_lab(11).config.read_text(), env) == "127.0.0.1:9109"
    assert haproxy.runtime_api_address(find_lab(5).config.read_text(), env) is None
    # A unix socket is inside the container under Docker: not one the kit can promise.
    assert haproxy.runtime_api_address("global\n    stats socket /run/haproxy.sock level admin\n", env) is None
    # Or a `listen` that relays a port to the socket (lab 13): the port, and not a frontend.
    lab13 = runner.plan(find_lab(13), runtimes.named("local"))
    assert lab13.runtime_api == "127.0.0.1:9309"
    assert sorted(lab13.frontends) == ["http_front", "ops_front", "plain_front", "ramp_front"]


def test_a_broken_config_gets_haproxys_message_with_the_labs_file_and_line(tmp_path):
    broken = tmp_path / "haproxy.cfg"
    broken.write_text("defaults\n    mode http\nbackend servers\n    balance roundrobin\n    random draw 2\n")
    with pytest.raises(LabkitError) as error:
        haproxy.check_config(haproxy.find_binary(), broken, {}, shown_as="labs/08-random/haproxy.cfg")
    message = str(error.value)
    assert "[labs/08-random/haproxy.cfg:5]" in message
    assert "unknown keyword 'random'" in message
    assert str(tmp_path) not in message


def test_the_local_runtime_gives_each_backend_a_port_of_its_own():
    # Ports taken one by one and let go at once came back the same, for some two of three,
    # in about 12 of 50000 draws; the lab then sent one backend's requests to another.
    # Drawn the old way, 40000 draws would show no repeat with probability about
    # (1 - 12/50000)^40000 = e^-9.6 = 7e-5.
    from labkit.runtimes.local import free_ports
    repeats = [ports for ports in (free_ports(3) for _ in range(40000)) if len(set(ports)) < 3]
    assert repeats == []


def test_an_unknown_lab_lists_the_labs():
    with pytest.raises(LabkitError) as error:
        find_lab(99)
    assert "There is no lab 99" in str(error.value)
    assert "make lab-5" in str(error.value)


def test_an_unknown_runtime_is_refused():
    with pytest.raises(LabkitError, match="RUNTIME must be auto, docker or local"):
        runtimes.choose("podman")


def test_a_busy_port_is_named_with_the_variable_that_moves_it(monkeypatch):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        monkeypatch.setenv("LAB5_HTTP_PORT", str(port))
        plan = runner.plan(find_lab(5), runtimes.named("local"))
        with pytest.raises(LabkitError) as error:
            runner.check_ports_free(plan)
    message = str(error.value)
    assert f"Port {port} on 127.0.0.1 is already in use" in message
    assert f"LAB5_HTTP_PORT={port + 1000} make lab-5" in message


@pytest.mark.parametrize("name", ["local", "docker"])
def test_a_lab_whose_start_has_only_begun_is_not_running_yet(name):
    """runner.up saves the record before anything starts; `make status` may read it then."""
    record = Record(lab=5, runtime=name, frontends={}, stats=None, started_at=0.0)
    assert runtimes.named(name).alive(record) is False


@pytest.mark.parametrize("role, makes_it_run", [("config-check", False), ("client", False), ("backend", True)])
def test_a_docker_lab_runs_only_once_a_service_of_it_runs(docker_engine, role, makes_it_run):
    # The config check's container carries the lab's label so that a stop can find it. While
    # it ran, for a moment before any service, `status` saw the lab up and then gone again:
    # a test waiting for the lab to start failed on that (CI, stop 19).
    from labkit import images
    from labkit.runtimes import docker as docker_runtime

    project = f"{paths.project_prefix()}05-alive-test"
    engine = docker_runtime.client()
    container = engine.containers.run(
        images.BACKEND_IMAGE, ["sleep", "infinity"], detach=True, network_mode="none",
        labels={docker_runtime.PROJECT_LABEL: project, "labkit.role": role})
    try:
        record = Record(lab=5, runtime="docker", frontends={}, stats=None, started_at=0.0, project=project)
        assert runtimes.named("docker").alive(record) is makes_it_run
    finally:
        container.remove(force=True)


def test_auto_runs_locally_and_says_why_when_docker_cannot_get_images(docker_engine, monkeypatch):
    """An engine that answers but has no images, no registry and no way to make the offline
    base: RUNTIME=auto must not pick it and then fail, but run the lab locally."""
    from labkit import images

    monkeypatch.setattr(images, "why_none_can_be_had", lambda client: "Docker answers, but it has no base image")
    said = []
    assert runtimes.choose("auto", said.append).name == "local"
    assert said == ["RUNTIME=auto runs this lab locally: Docker answers, but it has no base image."]
    with pytest.raises(LabkitError, match="no base image"):
        runtimes.choose("docker", said.append)


def test_a_ctrl_c_inside_interrupts_held_is_raised_once_the_block_has_ended():
    # In a process of its own, where Ctrl-C raises: a suite started in the background of a
    # script (`make test &`) inherits SIGINT ignored, Python then installs no handler of its
    # own, and the held Ctrl-C was rightly replayed to "ignore" (DID NOT RAISE).
    code = """
import signal
from labkit.errors import interrupts_held
signal.signal(signal.SIGINT, signal.default_int_handler)
finished = False
try:
    with interrupts_held():
        signal.raise_signal(signal.SIGINT)
        finished = True
    print("not raised")
except KeyboardInterrupt:
    print("raised after the block" if finished else "raised inside the block")
assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(paths.ROOT / "scripts")})
    assert (result.returncode, result.stdout.strip()) == (0, "raised after the block"), result.stderr
