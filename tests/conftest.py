import subprocess

import pytest

from labkit import docs_assets, paths


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """The course site, built strict, as `make docs` builds it."""
    docs_assets.ensure_mermaid(say=lambda message: None)
    folder = tmp_path_factory.mktemp("site")
    result = subprocess.run(
        [paths.ROOT / ".venv/bin/mkdocs", "build", "--strict", "--site-dir", folder],
        cwd=paths.ROOT, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, result.stderr
    return folder
