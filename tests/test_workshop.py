"""What an instructor relies on: images for a room without internet, `make doctor`, and
several labs running side by side."""

import json
import os
import shutil
import subprocess

import pytest

from labkit import images, paths, recording, runner
from labkit.client import answers_in_turn
from labkit.runtimes import docker as docker_runtime

LABKIT = str(paths.ROOT / ".venv" / "bin" / "labkit")
# Every case here that starts a lab starts lab 5 (one, lab 9 too).
pytestmark = pytest.mark.labs(5)


def labkit(*args, **env):
    return subprocess.run([LABKIT, *args], capture_output=True, text=True, timeout=900,
                          env={**os.environ, **env})


@pytest.mark.alone  # it removes the images the other workers' Docker labs start from
def test_images_saved_removed_loaded_then_a_lab_runs_with_no_registry(docker_engine, tmp_path):
    archive = tmp_path / "labkit-images.tar.gz"
    saved = labkit("images", "save", str(archive))
    assert saved.returncode == 0, saved.stdout + saved.stderr
    save_line = [line for line in saved.stdout.splitlines() if line.strip().startswith("docker save")][0]
    needed = save_line.split("docker save ", 1)[1].split(" | ")[0].split()
    assert set(images.KIT_IMAGES) <= set(needed)

    engine = docker_runtime.client()
    try:
        for image in needed:
            engine.images.remove(image, force=True)
        assert not any(images.present(engine, image) for image in needed)
    finally:  # whatever happened, the machine gets its images back
        loaded = labkit("images", "load", str(archive))
    assert loaded.returncode == 0, loaded.stderr
    assert all(images.present(engine, image) for image in needed)
    loaded_ids = {image: engine.images.get(image).id for image in needed}
    try:
        up = labkit("up", "5", "--runtime", "docker")
        assert up.returncode == 0, up.stdout + up.stderr
        assert "debootstrap" not in up.stdout and "pulling" not in up.stdout, "it fetched what it had"
        # The lab runs the loaded images themselves: a rebuild would have run the backend's
        # pip install, which needs PyPI, and left the loaded images behind untagged.
        assert {image: engine.images.get(image).id for image in needed} == loaded_ids, "it rebuilt what it had"
        assert {a.backend for a in answers_in_turn("http://127.0.0.1:8500/", 3)} == {"app1", "app2", "app3"}
    finally:
        labkit("down")
    assert runner.leftovers() == []


def doctor_outline(text: str) -> list[str]:
    """What every machine's report has: each check's name, in order, and the two verdicts."""
    checks = [line.split()[1] for line in text.splitlines() if line.startswith(("  ok  ", "  MISS"))]
    verdicts = [line.split(":")[0] for line in text.splitlines() if line.startswith(("Docker runtime:", "Local runtime:"))]
    return checks + verdicts


def test_doctor_tells_the_truth_here(request):
    result = labkit("doctor")
    docker_ready = docker_runtime.engine_answers()
    assert result.returncode == 0, result.stdout
    assert ("Docker runtime: ready" in result.stdout) == docker_ready
    assert "Local runtime:  ready" in result.stdout
    assert "haproxy   HAProxy version" in result.stdout
    # The setup page shows a real report; versions differ by machine, the outline may not.
    recording.check("doctor", result.stdout, update=request.config.getoption("--update-outputs"),
                    where=None, compare=doctor_outline)


def test_doctor_without_haproxy_says_how_to_get_it(tmp_path):
    """A machine without haproxy, simulated by a PATH that holds everything else."""
    for command in ("docker", "docker-compose", "openssl"):
        found = subprocess.run(["sh", "-c", f"command -v {command}"], capture_output=True, text=True).stdout.strip()
        if found:
            (tmp_path / command).symlink_to(found)
    without_haproxy = labkit("doctor", PATH=str(tmp_path))
    assert "Local runtime:  not available" in without_haproxy.stdout
    assert "haproxy" in without_haproxy.stdout and "MISS  haproxy" in without_haproxy.stdout
    assert without_haproxy.returncode == (0 if docker_runtime.engine_answers() else 1)

    neither = labkit("doctor", PATH=str(tmp_path), DOCKER_HOST="unix:///nonexistent/docker.sock")
    assert neither.returncode == 1
    assert "Neither runtime can run here" in neither.stdout
    assert "Start Docker" in neither.stdout


@pytest.mark.labs(5, 9)
def test_two_labs_run_side_by_side_and_make_down_stops_both(runtime):
    try:
        for lab in ("5", "9"):
            up = labkit("up", lab, "--runtime", runtime)
            assert up.returncode == 0, up.stdout + up.stderr
        status = json.loads(labkit("status", "--json").stdout)
        assert [(s["lab"], s["runtime"]) for s in status] == [(5, runtime), (9, runtime)]
        assert {a.backend for a in answers_in_turn(status[0]["frontends"]["http_front"] + "/", 3)} == {"app1", "app2", "app3"}
        assert {a.backend for a in answers_in_turn(status[1]["frontends"]["http_front"] + "/", 6)} == {"app1", "app2", "app3"}
    finally:
        down = subprocess.run(["make", "--no-print-directory", "down"], cwd=paths.ROOT, capture_output=True, text=True)
    assert down.returncode == 0
    assert "Stopping lab 5" in down.stdout and "Stopping lab 9" in down.stdout
    assert runner.leftovers() == []


@pytest.mark.labs()  # it starts none: any worker may run it beside the lab-5 tests
def test_a_copied_kit_folder_makes_its_own_venv_and_leaves_the_original_alone(tmp_path):
    """An instructor copies a prepared kit with its .venv (cp -r kit kit2). The copy's
    scripts would run the original's Python, and pip would repoint the original's install
    at the copy; instead make in the copy makes the copy's own .venv."""
    copy = tmp_path / "kit2"
    shutil.copytree(paths.ROOT, copy, symlinks=True, ignore=shutil.ignore_patterns(".labkit", "site"))

    def root_seen_by(checkout):
        python = checkout / ".venv" / "bin" / "python"
        return subprocess.run([str(python), "-c", "import labkit.paths; print(labkit.paths.ROOT)"],
                              capture_output=True, text=True, check=True).stdout.strip()

    made = subprocess.run(["make", "--no-print-directory", "list"], cwd=copy, capture_output=True, text=True,
                          timeout=600)
    assert made.returncode == 0, made.stdout + made.stderr
    assert f".venv was made for {paths.ROOT}/.venv, not this folder" in made.stdout, made.stdout
    assert "make lab-5" in made.stdout
    assert root_seen_by(copy) == str(copy)
    assert root_seen_by(paths.ROOT) == str(paths.ROOT)
    again = subprocess.run(["make", "--no-print-directory", "list"], cwd=copy, capture_output=True, text=True)
    assert "not this folder" not in again.stdout and "Setting up" not in again.stdout
