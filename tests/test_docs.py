"""The course site builds in strict mode, and its pages show the kit's own files."""

import html
import re

import pytest

from labkit import paths
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
    recorded = paths.ROOT / "docs" / "outputs" / f"{lab.name}.txt"
    for source in (lab.config, recorded):
        for line in shown_lines(source.read_text()):
            assert line in page, f"{paths.shown(source)}: {line!r} is not on the page"
