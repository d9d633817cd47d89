"""The course site builds in strict mode, and its pages show the kit's own files."""

import subprocess

import pytest

from labkit import paths
from labkit.labs import all_labs


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [paths.ROOT / ".venv/bin/mkdocs", "build", "--strict", "--site-dir", folder],
        cwd=paths.ROOT, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stderr
    return folder


@pytest.mark.parametrize("lab", all_labs(), ids=lambda lab: lab.name)
def test_each_lab_page_shows_the_labs_own_config_and_recorded_output(site, lab):
    page = (site / "labs" / lab.name / "index.html").read_text()
    for line in lab.config.read_text().splitlines():
        words = line.split()
        if words and words[0] in ("balance", "server", "frontend", "backend"):
            assert words[1] in page, line
    recorded = (paths.ROOT / "docs" / "outputs" / f"{lab.name}.txt").read_text()
    table_row = next(line for line in recorded.splitlines() if line.startswith("total"))
    assert table_row.split()[1] in page
