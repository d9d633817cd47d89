"""What the kit reads in a haproxy.cfg, and the real haproxy binary's verdict on it."""

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .errors import LabkitError

HOW_TO_GET_HAPROXY = """\
The local runtime runs the real haproxy program, and it is not installed here.
  Debian/Ubuntu:  sudo apt-get install haproxy
  Fedora:         sudo dnf install haproxy
  macOS:          brew install haproxy
Or run the labs in Docker instead: start Docker, then RUNTIME=docker make lab-N"""

SECTION_KEYWORDS = {"global", "defaults", "frontend", "backend", "listen", "resolvers",
                    "peers", "userlist", "program", "http-errors", "ring", "cache", "mailers"}


def find_binary() -> str:
    """The haproxy on PATH, or the one LABKIT_HAPROXY names (another build, say)."""
    explicit = os.environ.get("LABKIT_HAPROXY")
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise LabkitError(f"LABKIT_HAPROXY names {explicit}, which is not an executable file.")
        return explicit
    found = shutil.which("haproxy")
    if found:
        return found
    for folder in ("/usr/sbin", "/usr/local/sbin"):
        # Debian installs it in /usr/sbin, which is not on a normal user's PATH; the
        # Makefile adds it, a command typed by hand may not.
        if os.access(f"{folder}/haproxy", os.X_OK):
            raise LabkitError(f"haproxy is installed in {folder}, which is not on your PATH.\n"
                              f"Use the make targets (they add it), or: export PATH=\"$PATH:{folder}\"")
    raise LabkitError(HOW_TO_GET_HAPROXY)


def major_minor(version_output: str) -> str:
    """'2.6' from `haproxy -v`'s 'HAProxy version 2.6.12-1+deb12u4 ...'."""
    match = re.search(r"version (\d+\.\d+)", version_output)
    return match[1] if match else "unknown"


def words(line: str, env: Mapping[str, str] | None = None) -> list[str]:
    """Split a config line the way HAProxy does: quotes, backslashes, # comments, and
    $VAR, ${VAR} or ${VAR-default} expanded inside double quotes."""
    result, current, quote, i, started = [], [], None, 0, False
    while i < len(line):
        c = line[i]
        if quote == "'":
            if c == "'":
                quote = None
            else:
                current.append(c)
        elif c == "\\" and i + 1 < len(line):
            current.append(line[i + 1])
            started = True
            i += 1
        elif quote == '"' and c == "$" and env is not None:
            match = re.match(r"\$(?:\{([A-Za-z_][\w.]*)(?:-([^}]*))?\}|([A-Za-z_]\w*))", line[i:])
            if match:
                name = match[1] or match[3]
                default = match[2] if match[2] is not None else ""
                current.append(env.get(name, default))
                i += len(match[0])
                continue
            current.append(c)
        elif c == '"':
            quote = None if quote else '"'
            started = True
        elif quote:
            current.append(c)
        elif c == "'":
            quote = "'"
            started = True
        elif c == "#":
            break
        elif c.isspace():
            if current or started:
                result.append("".join(current))
            current, started = [], False
        else:
            current.append(c)
        i += 1
    if current or started:
        result.append("".join(current))
    return result


@dataclass
class Section:
    kind: str
    name: str
    lines: list[tuple[int, list[str]]] = field(default_factory=list)

    def directives(self, keyword: str) -> list[list[str]]:
        return [w[1:] for _, w in self.lines if w and w[0] == keyword]


def sections(text: str, env: Mapping[str, str] | None = None) -> list[Section]:
    result = []
    for number, line in enumerate(text.splitlines(), start=1):
        w = words(line, env)
        if not w:
            continue
        if w[0] in SECTION_KEYWORDS:
            result.append(Section(w[0], w[1] if len(w) > 1 else "", []))
        elif result:
            result[-1].lines.append((number, w))
    return result


@dataclass(frozen=True)
class Server:
    backend: str
    name: str
    address: str
    weight: int


def servers(text: str) -> list[Server]:
    found = []
    for section in sections(text):
        if section.kind not in ("backend", "listen"):
            continue
        for args in section.directives("server"):
            weight = int(args[args.index("weight") + 1]) if "weight" in args else 1
            found.append(Server(section.name, args[0], args[1], weight))
    return found


def _port(address: str) -> int:
    return int(address.rsplit(":", 1)[1])


def listeners(text: str, env: Mapping[str, str]) -> tuple[dict[str, str], str | None]:
    """The URLs a learner opens: {frontend name: URL}, and the stats page's URL.

    The host is always 127.0.0.1: what HAProxy binds inside a container is published there."""
    frontends, stats, mode = {}, None, "http"
    all_sections = sections(text, env)
    for section in all_sections:
        if section.kind == "defaults":
            mode = (section.directives("mode") or [[mode]])[-1][0]
        if section.kind not in ("frontend", "listen") or section in runtime_api_relays(all_sections):
            continue
        binds = section.directives("bind")
        if not binds:
            continue
        port = _port(binds[0][0])
        stats_uri = [args[1] for args in section.directives("stats") if args[:1] == ["uri"]]
        if stats_uri:
            stats = f"http://127.0.0.1:{port}{stats_uri[0]}"
            continue
        section_mode = (section.directives("mode") or [[mode]])[-1][0]
        scheme = "tcp" if section_mode == "tcp" else "https" if "ssl" in binds[0] else "http"
        frontends[section.name] = f"{scheme}://127.0.0.1:{port}"
    return frontends, stats


def stats_sockets(all_sections: list[Section]) -> list[str]:
    """The addresses of the global `stats socket` lines: ipv4@HOST:PORT, abns@NAME, a path."""
    return [args[1] for section in all_sections if section.kind == "global"
            for args in section.directives("stats") if args[:1] == ["socket"] and len(args) > 1]


def runtime_api_relays(all_sections: list[Section]) -> list[Section]:
    """`listen` sections whose server is the stats socket itself: a TCP door to the Runtime
    API that can have an access list, which the socket cannot (lab 13)."""
    sockets = stats_sockets(all_sections)
    return [section for section in all_sections if section.kind == "listen" and section.directives("bind")
            and any(args[1:2] and args[1] in sockets for args in section.directives("server"))]


def runtime_api_address(text: str, env: Mapping[str, str]) -> str | None:
    """Where a learner reaches HAProxy's Runtime API, as 127.0.0.1:PORT: the global `stats
    socket` on a TCP port (`ipv4@ADDRESS:PORT`), or a `listen` section that relays to it;
    None for a lab without either."""
    all_sections = sections(text, env)
    for address in stats_sockets(all_sections):
        if address.startswith("ipv4@"):
            return f"127.0.0.1:{_port(address)}"
    for relay in runtime_api_relays(all_sections):
        return f"127.0.0.1:{_port(relay.directives('bind')[0][0])}"
    return None


def map_server_addresses(text: str, addresses: Mapping[str, str]) -> str:
    """The config with each `server NAME HOST[:PORT]` whose HOST is a compose service
    pointed at the local address that service got. Nothing else changes, line for line,
    so HAProxy's messages keep the lab file's line numbers."""

    def remap(match):
        host = match["address"].rsplit(":", 1)[0] if ":" in match["address"] else match["address"]
        if host not in addresses:
            return match[0]
        return f"{match['head']}{addresses[host]}"

    pattern = re.compile(r"^(?P<head>\s*server\s+\S+\s+)(?P<address>[^\s#]+)", re.MULTILINE)
    return pattern.sub(remap, text)


def check_config(binary: str, config: Path, env: Mapping[str, str], shown_as: Path) -> str:
    """Run `haproxy -c`; on error raise HAProxy's own message, naming the lab's file.
    Returns what HAProxy said of a valid config (warnings, if any)."""
    result = subprocess.run(
        [binary, "-c", "-f", str(config)],
        env={"PATH": os.environ.get("PATH", ""), **env},
        capture_output=True,
        text=True,
    )
    message = (result.stdout + result.stderr).replace(str(config), str(shown_as)).strip()
    # 0: valid; 2: valid but nothing to listen on (HAProxy 2.9+); 1: errors.
    if result.returncode in (0, 2):
        return message
    raise rejected(shown_as, message)


def rejected(shown_as, message: str) -> LabkitError:
    """The error for a config HAProxy refuses: its own words, and what to do next."""
    return LabkitError(f"HAProxy rejects {shown_as}:\n{message}\n"
                       "Fix the line it names (the [file:line] part), then run the lab again.")


def default_backend(text: str, frontend: str) -> str:
    for section in sections(text):
        if section.kind in ("frontend", "listen") and section.name == frontend:
            found = section.directives("default_backend")
            return found[-1][0] if found else section.name
    raise LabkitError(f"no frontend {frontend!r} in the config")


def seconds(duration: str) -> float:
    """An HAProxy time ("500ms", "2s", "1m"; a bare number is milliseconds) in seconds."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(us|ms|s|m|h|d)?", duration)
    if not match:
        raise ValueError(f"not an HAProxy time: {duration!r}")
    unit = {"us": 1e-6, "ms": 1e-3, None: 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400}[match[2]]
    return float(match[1]) * unit


@dataclass(frozen=True)
class HealthChecks:
    inter: float  # seconds between checks
    fall: int  # failed checks in a row that mark a server DOWN
    rise: int  # passed checks in a row that mark it UP
    timeout: float  # how long one check may wait for its connection (see health_checks)

    def time_to_down(self, silent: bool) -> tuple[float, float]:
        """The soonest and the latest HAProxy marks a dead server DOWN, in seconds after it
        died. The first failing check comes within one interval, and each next one `inter`
        after the previous one ended; `fall` failures in a row make DOWN. A dead process's
        port refuses connections at once. A killed container's address goes silent once
        Docker has taken its network away, and a check of a silent address waits out its
        timeout; the first checks may still be refused, as that takes Docker a moment."""
        soonest = (self.fall - 1) * self.inter
        return soonest, soonest + self.inter + (self.fall * self.timeout if silent else 0.0)


def health_checks(text: str) -> HealthChecks:
    """The check timing the `defaults` section gives every server (HAProxy's own defaults
    where it says nothing: inter 2s, fall 3, rise 2). A check's connection may take
    min(timeout connect, inter) where `timeout check` is set, and all of `inter` where it
    is not (HAProxy's manual, `timeout check`; seen on 3.0 as "check duration: 2000ms")."""
    settings = {"inter": "2s", "fall": "3", "rise": "2"}
    connect = check = None
    for section in sections(text):
        if section.kind != "defaults":
            continue
        for args in section.directives("default-server"):
            for key in settings:
                if key in args:
                    settings[key] = args[args.index(key) + 1]
        for args in section.directives("timeout"):
            if args[0] == "connect":
                connect = seconds(args[1])
            if args[0] == "check":
                check = seconds(args[1])
    inter = seconds(settings["inter"])
    timeout = min(connect or inter, inter) if check is not None else inter
    return HealthChecks(inter, int(settings["fall"]), int(settings["rise"]), timeout)


# In a log line of `option httplog`, the termination state (4 characters, "----" when the
# request ended normally) comes right before the connection counts "act/fe/be/srv/retries".
TERMINATION_STATE = re.compile(r" (\S{4}) \d+/\d+/\d+/\d+/\+?\d+ ")


def abnormal_endings(log: str) -> list[str]:
    """The request lines of an `option httplog` log whose termination state is not "----":
    the first letter says who ended the request (C the client's side, S the server's side),
    the second at which step (D while the response was being sent, say)."""
    return [line for line in log.splitlines()
            if (match := TERMINATION_STATE.search(line)) and match[1] != "----"]
