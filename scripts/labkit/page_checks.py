"""The "Check it yourself" part of a lab's docs page: commands a learner types in the kit's
folder, each followed by what it prints, in ```console blocks ("$ " begins a command).
A block inside a content tab "On your machine" or "In Docker" holds for that runtime only;
one outside the tabs holds for both. The lab's tests run every block (labkit.checks)."""

import re
from dataclasses import dataclass

from . import paths

HEADING = "## Check it yourself"
TAB_RUNTIMES = {"On your machine": "local", "In Docker": "docker"}
BOTH = ("local", "docker")


@dataclass(frozen=True)
class Step:
    command: str
    output: str
    runtimes: tuple[str, ...]


def page(lab) -> str:
    return (paths.ROOT / "docs" / "labs" / f"{lab.name}.md").read_text()


def steps(text: str) -> list[Step]:
    heading = re.search(rf"^{HEADING}$", text, re.MULTILINE)
    if not heading:
        return []
    section = text[heading.end():].split("\n## ", 1)[0]
    found, runtimes, block_indent, command, output = [], BOTH, None, None, []

    def finish():
        if command is not None:
            found.append(Step(command, "\n".join(output).rstrip() + "\n", runtimes))

    for line in section.splitlines():
        stripped = line.strip()
        indent = len(line) - len(line.lstrip())
        if block_indent is None:
            tab = re.fullmatch(r'=== "([^"]+)"', stripped)
            if tab:
                named = [r for title, r in TAB_RUNTIMES.items() if tab[1].startswith(title)]
                if not named:
                    raise ValueError(f"{HEADING}: a tab is named for a runtime, not {tab[1]!r}: "
                                     + ", ".join(TAB_RUNTIMES))
                runtimes = (named[0],)
            elif stripped and indent == 0:
                runtimes = BOTH  # prose after the tabs: what follows holds for both again
            if stripped.split()[:1] == ["```console"]:
                block_indent, command, output = indent, None, []
            continue
        if stripped == "```":
            finish()
            block_indent, command = None, None
            continue
        text_line = line[block_indent:]
        if text_line.startswith("$ "):
            finish()
            command, output = text_line[2:], []
        elif command is not None:
            output.append(text_line)
    if block_indent is not None:
        raise ValueError(f"{HEADING}: a console block is not closed")
    return found
