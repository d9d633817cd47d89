"""The course site in a real browser: Debian's chromium, headless, on the built site served
on 127.0.0.1. Every lab page must show its navigation, its code blocks and its diagram
drawn (mermaid turns the diagram's text into a picture, or leaves the text)."""

import functools
import http.server
import os
import re
import shutil
import subprocess
import threading

import pytest

from labkit import paths
from labkit.labs import all_labs

SCREENSHOT = paths.checkout_state_dir() / "artifacts" / "docs-lab-05.png"
# One worker builds the site for both files that look at it; their `lab` starts nothing.
pytestmark = [pytest.mark.labs(), pytest.mark.xdist_group("docs-site")]


@pytest.fixture(scope="module")
def chromium():
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        if os.environ.get("LABKIT_REQUIRE_BROWSER"):
            pytest.fail("chromium is not installed, and this run requires the browser test")
        pytest.skip("no chromium here (sudo apt-get install chromium); CI runs this test")
    return found


@pytest.fixture(scope="module")
def served(site):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.RequestHandlerClass.log_message = lambda *args: None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def headless(chromium, tmp_path, *args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--no-proxy-server", f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=15000", *args],
        capture_output=True, text=True, timeout=120,
    )


@pytest.mark.parametrize("lab", all_labs(), ids=lambda lab: lab.name)
def test_each_lab_page_renders_navigation_code_and_diagram(chromium, served, lab, tmp_path):
    # In a full parallel run a page now and then comes back before mermaid has loaded: its
    # <pre> still holds the text (Material takes the class "mermaid" off it until then). Never
    # so alone; a page whose diagram never draws still fails all three looks.
    for _ in range(3):
        result = headless(chromium, tmp_path, "--dump-dom", f"{served}/labs/{lab.name}/")
        page = result.stdout
        if '<div class="mermaid">' in page:
            break
    assert 'class="md-nav' in page, "no navigation"
    assert 'class="md-nav__link md-nav__link--active"' in page or "md-nav__link--active" in page
    code = re.findall(r'<div class="highlight">', page)
    assert len(code) >= 2, "the config and the output should be code blocks"
    first_config_line = lab.config.read_text().splitlines()[0]
    assert first_config_line.split(":")[0] in page
    # Drawn, mermaid replaces the <pre class="mermaid"> holding the text with a <div>.
    assert '<div class="mermaid">' in page, ("the diagram was not drawn. chromium said:\n" + result.stderr[-3000:]
                                             + "\nthe page's mermaid parts: "
                                             + str(re.findall(r'<[^<>]*mermaid[^<>]*>', page)))
    assert '<pre class="mermaid"' not in page, "a diagram was left as text"


def test_a_screenshot_of_a_lab_page(chromium, served, tmp_path):
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)
    result = headless(chromium, tmp_path, "--window-size=1280,1400", f"--screenshot={SCREENSHOT}",
                      f"{served}/labs/05-round-robin/")
    assert result.returncode == 0, result.stderr[-500:]
    assert SCREENSHOT.stat().st_size > 50_000, "a blank page is a few kilobytes"
    print(f"screenshot: {paths.shown(SCREENSHOT)}")
