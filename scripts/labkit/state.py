"""What the kit started, written down as it happens, so that `make down` can stop it
even after a crash or a Ctrl-C. One JSON file per running lab under .labkit/labs/: the
JSON form of its Record."""

import dataclasses
import json
import os
from dataclasses import dataclass, field

from . import paths


@dataclass
class Record:
    """A lab's start as the kit wrote it down: enough to find, use and stop what it started."""

    lab: int
    runtime: str
    frontends: dict[str, str]
    stats: str | None
    started_at: float
    runtime_api: str | None = None  # HOST:PORT of HAProxy's stats socket, where the lab has one
    # Docker: the compose project and how to run Docker Compose on the lab's file.
    project: str | None = None
    compose_file: str | None = None
    compose: list[str] = field(default_factory=list)
    compose_env: dict[str, str] = field(default_factory=dict)
    # Local: the haproxy binary, the config it runs and its environment, and each process
    # started ({name: pid, start time, log, and for backends url, argv and env}).
    haproxy_binary: str | None = None
    config: str | None = None
    haproxy_env: dict[str, str] = field(default_factory=dict)
    processes: dict[str, dict] = field(default_factory=dict)

    def public(self) -> dict:
        """The part that `labkit status --json` promises."""
        return {"lab": self.lab, "runtime": self.runtime, "frontends": self.frontends, "stats": self.stats}


def _folder():
    return paths.state_dir() / "labs"


def _file(number: int):
    return _folder() / f"{number:02d}.json"


def save(record: Record) -> None:
    _folder().mkdir(parents=True, exist_ok=True)
    temporary = _file(record.lab).with_suffix(".tmp")
    temporary.write_text(json.dumps(dataclasses.asdict(record), indent=2))
    os.replace(temporary, _file(record.lab))  # never a half-written record


def load(number: int) -> Record | None:
    try:
        fields = json.loads(_file(number).read_text())
    except FileNotFoundError:
        return None
    known = {f.name for f in dataclasses.fields(Record)}
    return Record(**{k: v for k, v in fields.items() if k in known})


def load_all() -> list[Record]:
    # A lab stopped while this looks drops out (load gives None), as it should.
    records = (load(int(f.stem)) for f in sorted(_folder().glob("*.json")))
    return [record for record in records if record]


def remove(number: int) -> None:
    _file(number).unlink(missing_ok=True)
