"""Checks every lab's suite runs: a lab's test file imports them, and pytest runs them there
with that lab's `lab` fixture, in each runtime.

    from labkit.checks import (test_haproxy_accepts_its_config,  # noqa: F401
                               test_haproxy_listens_where_the_lab_says, test_haproxy_runs_the_labs_config,
                               test_haproxy_started_without_warnings)

They look inside HAProxy's host with pytest-testinfra: this machine for the local runtime,
the haproxy container for Docker.
"""


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


def test_haproxy_runs_the_labs_config(lab):
    host, pid, config, _ = lab.haproxy()
    status = host.file(f"/proc/{pid}/status").content_string
    assert "Name:\thaproxy" in status
    command_line = host.file(f"/proc/{pid}/cmdline").content_string.split("\0")
    assert command_line[command_line.index("-f") + 1] == config


def test_haproxy_listens_where_the_lab_says(lab):
    host, *_ = lab.haproxy()
    bind_address = "127.0.0.1" if lab.runtime == "local" else "0.0.0.0"
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
