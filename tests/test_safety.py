"""Safe by default, checked: no secret in the repository, no administration beyond loopback.
(That everything listens on 127.0.0.1 only and runs without root is checked for each
running lab by labkit.checks, in every lab's suite.)"""

import subprocess

import pytest

from labkit import haproxy, paths
from labkit.labs import all_labs


def tracked_files() -> list[str]:
    return subprocess.run(["git", "ls-files"], cwd=paths.ROOT, capture_output=True, text=True, check=True).stdout.split()


def test_no_key_or_certificate_is_committed():
    suspicious = [f for f in tracked_files() if f.endswith((".pem", ".key", ".crt", ".p12", ".pfx"))]
    assert not suspicious
    for name in tracked_files():
        path = paths.ROOT / name
        if path.is_file() and path.stat().st_size < 1_000_000:
            text = path.read_bytes()
            assert b"PRIVATE KEY-----" not in text or name == "tests/test_safety.py", name


def administration_beyond_loopback(config: str) -> list[str]:
    """A Runtime API socket must be a unix socket or on loopback, and a stats page that
    allows administration must say who may use it. The address may be the kit's BIND_ADDR,
    as every listener's is: 127.0.0.1 when HAProxy runs on the machine; inside a container,
    every address of the container, whose ports Docker publishes on 127.0.0.1 only (each
    running lab's suite checks that, labkit.checks)."""
    found = []
    all_sections = haproxy.sections(config, {"BIND_ADDR": "127.0.0.1"})
    for section in all_sections:
        where = f"{section.kind} {section.name}".strip()
        for args in section.directives("stats"):
            # abns@: an abstract socket, reachable from HAProxy's own network namespace only.
            if args[:1] == ["socket"] and not args[1].startswith(
                    ("/", "unix@", "abns@", "127.0.0.1:", "ipv4@127.0.0.1:", "[::1]:")):
                found.append(f"{where}: stats socket {args[1]}")
            if args[:1] == ["admin"] and "if" not in args and "unless" not in args:
                found.append(f"{where}: stats admin for everyone")
    for relay in haproxy.runtime_api_relays(all_sections):
        # A TCP door to the socket: it must turn away every address but this machine's,
        # 127.0.0.1 and "${HOST_ON_LAB_NETWORK}" (its address on the lab's Docker network;
        # not set here, so it reads as "").
        if not any(args[:6] == ["connection", "reject", "unless", "{", "src", "127.0.0.1"]
                   and args[6:] in (["}"], ["", "}"]) for args in relay.directives("tcp-request")):
            found.append(f"listen {relay.name}: the Runtime API for everyone")
    return found


@pytest.mark.labs()  # reads each lab's config; starts none
@pytest.mark.parametrize("lab", all_labs(), ids=lambda lab: lab.name)
def test_administration_is_reachable_from_loopback_only(lab):
    assert administration_beyond_loopback(lab.config.read_text()) == []


def test_administration_beyond_loopback_is_caught():
    """The check above must catch a Runtime API socket on every address, and an admin stats
    page open to all, whatever lab adds one."""
    config = ("global\n    stats socket ipv4@0.0.0.0:9999 level admin\n"
              "    stats socket /run/haproxy.sock mode 600 level admin\n"
              "frontend stats\n    stats enable\n    stats admin\n"
              "frontend safe_stats\n    stats admin if LOCALHOST\n"
              "listen open_door\n    mode tcp\n    bind :9998\n    server cli /run/haproxy.sock\n"
              "listen door_for_all\n    mode tcp\n    bind :9997\n"
              "    tcp-request connection reject unless { always_true }\n    server cli /run/haproxy.sock\n")
    assert administration_beyond_loopback(config) == ["global: stats socket ipv4@0.0.0.0:9999",
                                                       "frontend stats: stats admin for everyone",
                                                       "listen open_door: the Runtime API for everyone",
                                                       "listen door_for_all: the Runtime API for everyone"]
