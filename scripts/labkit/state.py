"""What the kit started, written down as it happens, so that `make down` can stop it
even after a crash or a Ctrl-C. One JSON file per running lab under .labkit/labs/."""

import json
import os

from . import paths


def _folder():
    return paths.state_dir() / "labs"


def _file(number: int):
    return _folder() / f"{number:02d}.json"


def save(record: dict) -> None:
    _folder().mkdir(parents=True, exist_ok=True)
    temporary = _file(record["lab"]).with_suffix(".tmp")
    temporary.write_text(json.dumps(record, indent=2))
    os.replace(temporary, _file(record["lab"]))  # never a half-written record


def load(number: int) -> dict | None:
    try:
        return json.loads(_file(number).read_text())
    except FileNotFoundError:
        return None


def load_all() -> list[dict]:
    # A lab stopped while this looks drops out (load gives None), as it should.
    records = (load(int(f.stem)) for f in sorted(_folder().glob("*.json")))
    return [record for record in records if record]


def remove(number: int) -> None:
    _file(number).unlink(missing_ok=True)
