"""The course site builds in strict mode, and its pages show the kit's own files."""

import html
import json
import re

import pytest

from labkit import page_checks, paths, recording
from labkit.labs import all_labs

# One worker builds the site for both files that look at it; their `lab` starts nothing.
pytestmark = [pytest.mark.labs(), pytest.mark.xdist_group("docs-site")]


def page_text(html_file) -> str:
    """What a reader sees of a page: tags stripped, entities decoded, spaces collapsed."""
    text = html.unescape(re.sub(r"<[^>]+>", "", html_file.read_text()))
    return re.sub(r"\s+", " ", text)


def shown_lines(text: str) -> list[str]:
    return [re.sub(r"\s+", " ", line.strip()) for line in text.splitlines() if line.strip()]


@pytest.mark.parametrize("lab", all_labs(), ids=lambda lab: lab.name)
def test_each_lab_page_shows_the_labs_own_config_and_recorded_output(site, lab):
    page = page_text(site / "labs" / lab.name / "index.html")
    recorded = [recording.OUTPUTS / f"{recording.lab_output(lab, runtime)}.txt" for runtime in ("local", "docker")]
    for source in (lab.config, *recorded):
        for line in shown_lines(source.read_text()):
            assert line in page, f"{paths.shown(source)}: {line!r} is not on the page"


def test_each_recorded_output_on_a_page_says_which_haproxy_printed_it():
    """An output that depends on HAProxy's version (recorded.json's `where`) is introduced,
    in the lines just above it, by the name of that version."""
    index = json.loads(recording.INDEX.read_text())
    include = re.compile(r'--8<-- "docs/outputs/(.+)\.txt"')
    shown = 0
    for page in sorted(paths.ROOT.glob("docs/**/*.md")):
        lines = page.read_text().splitlines()
        for number, line in enumerate(lines):
            match = include.search(line)
            where = match and index[match[1]]["where"]
            if where and where.startswith("HAProxy"):
                shown += 1
                assert where in " ".join(lines[max(0, number - 6):number]), f"{paths.shown(page)}:{number + 1} does not say {where}"
    assert shown >= 2 * len(all_labs())


def test_check_it_yourself_blocks_are_read_per_runtime():
    text = '''## Check it yourself

```console
$ echo both
both
```

=== "On your machine"

    ```console
    $ echo local
    local
    $ true
    ```

=== "In Docker (HAProxy 3.0)"

    ```console
    $ echo docker
    docker
    ```

Prose again: for both.

```bash
echo shown, not run
```

## The next section

```console
$ echo not part of it
```
'''
    assert page_checks.steps(text) == [
        page_checks.Step("echo both", "both\n", ("local", "docker")),
        page_checks.Step("echo local", "local\n", ("local",)),
        page_checks.Step("true", "\n", ("local",)),
        page_checks.Step("echo docker", "docker\n", ("docker",)),
    ]


@pytest.mark.parametrize("lab", all_labs(), ids=lambda lab: lab.name)
def test_each_lab_page_has_commands_to_check_it_yourself_in_each_runtime(lab):
    steps = page_checks.steps(page_checks.page(lab))
    for runtime in ("local", "docker"):
        assert [s for s in steps if runtime in s.runtimes], (lab.name, runtime)


@pytest.mark.parametrize("text", ['## Check it yourself\n\n=== "On Windows"\n\n    ```console\n    $ true\n    ```\n',
                                  '## Check it yourself\n\n```console\n$ true\n'],
                         ids=["a tab for no runtime", "a block never closed"])
def test_check_it_yourself_blocks_that_would_be_skipped_are_errors(text):
    with pytest.raises(ValueError):
        page_checks.steps(text)
