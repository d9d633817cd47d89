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


@pytest.mark.parametrize("lab", all_labs(), ids=lambda lab: lab.name)
def test_administration_is_reachable_from_loopback_only(lab):
    """A Runtime API socket must be a unix socket or on loopback, and a stats page that
    allows administration must say who may use it."""
    for section in haproxy.sections(lab.config.read_text()):
        for args in section.directives("stats"):
            if args[:1] == ["socket"]:
                address = args[1]
                assert address.startswith(("/", "unix@", "127.0.0.1:", "ipv4@127.0.0.1:", "[::1]:")), address
            if args[:1] == ["admin"]:
                assert "if" in args or "unless" in args, f"{section.name}: stats admin for everyone"
