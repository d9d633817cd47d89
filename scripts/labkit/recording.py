"""Outputs the docs pages show, recorded from real runs and checked against new ones.

`make docs-outputs` records them (the tests, run with --update-outputs), a lab's in each
runtime. Every test run then checks two things:

- the sources: a lab's output was recorded from the lab's files as they are now (a
  changed config makes it stale, wherever the tests run);
- the text: a new run prints what the page shows. Where the text depends on the machine
  (HAProxy's own version, say), it is compared only on a machine like the one that
  recorded it, so that `make test` passes on a learner's laptop too.
"""

import hashlib
import json
import re

from . import paths

OUTPUTS = paths.ROOT / "docs" / "outputs"
INDEX = OUTPUTS / "recorded.json"


def lab_output(lab, runtime: str) -> str:
    """The name of what `make lab-N` printed in a runtime: docs/outputs/05-round-robin.txt
    for the local runtime, docs/outputs/docker/05-round-robin.txt for Docker."""
    return lab.name if runtime == "local" else f"{runtime}/{lab.name}"


def sources_digest(lab) -> str:
    """A digest of the lab's own files: a recorded output is stale once they change."""
    digest = hashlib.sha256()
    for name in ("haproxy.cfg", "compose.yaml", "lab.toml", "demo.py"):
        if (lab.path / name).exists():
            digest.update(name.encode() + b"\0" + (lab.path / name).read_bytes())
    return digest.hexdigest()


def skeleton(text: str) -> str:
    """The text with every number masked and every bar of a table (demo.bar) left out, an
    empty one too: what a random lab prints the same each run."""
    return re.sub(r"[ \t]+", " ", re.sub(r"#+", "", re.sub(r"\d+(\.\d+)?", "N", text)))


def _index() -> dict:
    return json.loads(INDEX.read_text()) if INDEX.exists() else {}


def check(name: str, output: str, *, update: bool, where: str | None, sources: str | None = None,
          compare=lambda text: text) -> None:
    """Record (update=True) or check the output shown as docs/outputs/<name>.txt.

    where: what the text depends on (e.g. "HAProxy 2.6"), None if nothing;
    sources: the digest of what produced it, if anything can make it stale;
    compare: what of the text must match (all of it, its skeleton, an outline)."""
    output = paths.as_the_checkout_shows(output)
    shown = OUTPUTS / f"{name}.txt"
    index = _index()
    if update:
        shown.parent.mkdir(parents=True, exist_ok=True)
        shown.write_text(output)
        index[name] = {"where": where, "sources": sources}
        INDEX.write_text(json.dumps(index, indent=2, sort_keys=True) + "\n")
    entry = index.get(name)
    stale = f"{paths.shown(shown)} is stale; record it again with `make docs-outputs`"
    assert entry is not None and shown.exists(), f"{paths.shown(shown)} was never recorded: make docs-outputs"
    assert entry["sources"] == sources, stale + " (what produced it has changed)"
    if entry["where"] == where:
        assert compare(output) == compare(shown.read_text()), stale
