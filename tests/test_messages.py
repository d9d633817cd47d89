"""What a learner sees when something is wrong: each case is run as typed, must fail (or
succeed) as it should, start nothing, and say what to do next. The messages are recorded
in docs/outputs/messages/, which the troubleshooting page shows.

Cases that need a broken lab run in a sandbox copy of the kit (LABKIT_HOME), so that the
real labs are never touched."""

import os
import re
import shutil
import socket
import subprocess

import pytest

from labkit import haproxy, images, paths, recording, runner, runtimes
from labkit.errors import LabkitError
from labkit.labs import find_lab
from labkit.runtimes import docker as docker_runtime

LABKIT = str(paths.ROOT / ".venv" / "bin" / "labkit")
NO_ENGINE = "unix:///nonexistent/docker.sock"
# Every case here that starts a lab starts lab 5.
pytestmark = pytest.mark.labs(5)


def untouched(folder, names):
    """What a copy of a lab leaves out: caches, and a learner's copy of the exercise config."""
    return [name for name in names
            if name == "__pycache__" or (folder.endswith("exercise") and name == "haproxy.cfg")]


@pytest.fixture
def sandbox(tmp_path):
    """A copy of the kit with lab 5 only, its own state folder, and the real backends and
    HAProxy image folders linked in."""
    home = tmp_path / "kit"
    (home / "labs").mkdir(parents=True)
    shutil.copytree(paths.LABS_DIR / "05-round-robin", home / "labs" / "05-round-robin",
                    ignore=untouched)
    for folder in ("backends", "haproxy"):
        (home / folder).symlink_to(paths.ROOT / folder)
    yield home
    subprocess.run([LABKIT, "down"], env={**os.environ, "LABKIT_HOME": str(home)}, capture_output=True)


@pytest.fixture
def no_haproxy_path(tmp_path):
    """A PATH with what the kit needs, except haproxy."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for command in ("docker", "docker-compose", "openssl"):
        found = shutil.which(command)
        if found:
            (folder / command).symlink_to(found)
    return str(folder)


def labkit(*args, **env):
    result = subprocess.run([LABKIT, *args], capture_output=True, text=True, timeout=600,
                            env={**os.environ, "PYTHONUNBUFFERED": "1", **env})
    return result.returncode, result.stdout + result.stderr


def recorded(request, name: str, output: str, where: str | None = None) -> None:
    """The message as the troubleshooting page shows it; `where` names what of this machine
    the text depends on (compared only on a machine like the recording one)."""
    recording.check(f"messages/{name}", output, update=request.config.getoption("--update-outputs"), where=where)


def local_haproxy() -> str:
    found = shutil.which("haproxy")
    version = subprocess.run([found, "-v"], capture_output=True, text=True).stdout if found else ""
    return f"HAProxy {haproxy.major_minor(version)}"


def without_haproxy_here() -> str:
    """What the no-haproxy messages depend on: whether a haproxy sits off the PATH."""
    return "haproxy in /usr/sbin" if os.access("/usr/sbin/haproxy", os.X_OK) else "no haproxy"


def test_an_unknown_lab_lists_the_labs(request):
    code, output = labkit("run", "99")
    assert code == 1
    assert "There is no lab 99. The labs are:" in output and "make lab-5" in output
    recorded(request, "unknown-lab", output)


def test_a_broken_config_gets_haproxys_message_with_file_and_line_and_starts_nothing(request, sandbox, runtime):
    config = sandbox / "labs" / "05-round-robin" / "haproxy.cfg"
    lines = config.read_text().splitlines()
    number = next(i for i, line in enumerate(lines, 1) if line.strip() == "balance roundrobin")
    lines[number - 1] = lines[number - 1].replace("roundrobin", "roundrobbin")
    config.write_text("\n".join(lines) + "\n")

    code, output = labkit("run", "5", "--runtime", runtime, LABKIT_HOME=str(sandbox))
    assert code == 1
    assert f"[labs/05-round-robin/haproxy.cfg:{number}]" in output
    assert "[ALERT]" in output and "Fix the line it names" in output
    assert "up and healthy" not in output
    # Nothing of the sandbox kit is left, and nothing of the real one was started.
    left = subprocess.run([LABKIT, "status", "--json"], capture_output=True, text=True,
                          env={**os.environ, "LABKIT_HOME": str(sandbox)}).stdout
    assert left.strip() == "[]"
    assert runner.leftovers() == []
    if runtime == "local":
        # HAProxy prints its process id in every line.
        recorded(request, "broken-config", re.sub(r"\] +\(\d+\) :", "] (PID) :", output), where=local_haproxy())


def test_a_health_check_that_fails_is_told_after_the_demo(sandbox, runtime):
    # `make lab-N` does not wait for HAProxy's own checks (runner.up), so it tells a failing
    # one after the demo. app1's first check runs as HAProxy starts, and its answer is one
    # round trip on this machine, while the look comes after the demo's 30 round trips
    # through HAProxy: app1's has failed by then, and the kit waits for the others' to name
    # them all.
    config = sandbox / "labs" / "05-round-robin" / "haproxy.cfg"
    config.write_text(config.read_text().replace(
        "    balance roundrobin\n", "    balance roundrobin\n    option httpchk GET /no-such-page\n"))
    code, output = labkit("run", "5", "--runtime", runtime, LABKIT_HOME=str(sandbox))
    assert code == 0, output
    assert ("HAProxy's health checks fail for servers/app1 (DOWN, check L7STS), servers/app2 (DOWN, check L7STS), "
            "servers/app3 (DOWN, check L7STS):") in output, output
    assert "The lab keeps running" in output


def test_a_ctrl_c_during_the_docker_config_check_leaves_no_container(docker_engine, monkeypatch):
    # The check runs `haproxy -c` in a throwaway container that the SDK removes once it has
    # ended. A Ctrl-C while the SDK waits for it (made here by a wait that raises) left it
    # behind, unlabelled, where neither the lab's stop nor `make down` could see it.
    import docker

    def interrupted(container, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(docker.models.containers.Container, "wait", interrupted)
    monkeypatch.setattr(docker_runtime, "passed_check_file", lambda engine, plan: None)  # the check runs
    with pytest.raises(KeyboardInterrupt):
        runner.up(find_lab(5), "docker", say=lambda message: None)
    engine = docker_runtime.client()
    # Another worker's labs run HAProxy containers too: theirs carry their own project label.
    left = [c for c in engine.containers.list(all=True, filters={"ancestor": images.HAPROXY_IMAGE})
            if c.labels.get(docker_runtime.PROJECT_LABEL) in (None, find_lab(5).project)]
    assert left == []


def test_the_docker_check_is_skipped_only_for_a_config_that_passed_it_unchanged(docker_engine, tmp_path, monkeypatch):
    # A warm start skips the check's container when the same config passed it in the same
    # image: an edited config is checked again, and one HAProxy rejects is never noted.
    monkeypatch.setenv("LABKIT_STATE_DIR", str(tmp_path / "state"))
    docker, engine = runtimes.named("docker"), docker_runtime.client()
    lab = find_lab(5)
    passing = runner.plan(lab, docker)
    noted = docker_runtime.passed_check_file(engine, passing)
    assert noted is not None and not noted.exists()
    docker.check_config(engine, passing, lab.project)
    assert noted.exists()
    mistyped = tmp_path / "haproxy.cfg"
    mistyped.write_text(lab.config.read_text().replace("balance roundrobin", "balance round-robin"))
    failing = runner.plan(lab.with_config(mistyped), docker)
    assert docker_runtime.passed_check_file(engine, failing) != noted
    for _ in range(2):
        with pytest.raises(LabkitError, match=r"HAProxy rejects .*haproxy\.cfg"):
            docker.check_config(engine, failing, lab.project)
    assert sorted(noted.parent.iterdir()) == [noted]


def test_a_config_with_windows_line_endings_runs(sandbox, runtime):
    """A checkout with CRLF line endings (.gitattributes asks for LF, but a copy can lose it)."""
    config = sandbox / "labs" / "05-round-robin" / "haproxy.cfg"
    config.write_bytes(config.read_bytes().replace(b"\n", b"\r\n"))
    code, output = labkit("up", "5", "--runtime", runtime, LABKIT_HOME=str(sandbox), LAB5_HTTP_PORT="18500",
                          LAB5_STATS_PORT="18504")
    assert code == 0, output
    from labkit.client import answers_in_turn
    assert {a.backend for a in answers_in_turn("http://127.0.0.1:18500/", 3)} == {"app1", "app2", "app3"}


def test_a_busy_port_is_named_with_the_variable_that_moves_it(request):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        code, output = labkit("run", "5", "--runtime", "local", LAB5_HTTP_PORT=str(port))
    assert code == 1
    assert f"Port {port} on 127.0.0.1 is already in use" in output
    assert f"LAB5_HTTP_PORT={port + 1000} make lab-5" in output
    assert runner.leftovers() == []
    recorded(request, "busy-port", output.replace(str(port + 1000), "PORT2").replace(str(port), "PORT"))


@pytest.mark.parametrize("setting, said", [
    ("LAB5_HTTP_PORT=99999", "LAB5_HTTP_PORT=99999 is not a port (a number from 1 to 65535); try LAB5_HTTP_PORT=9500"),
    ("LAB5_HTTP_PORT=abc", "LAB5_HTTP_PORT=abc is not a port (a number from 1 to 65535); try LAB5_HTTP_PORT=9500"),
    ("LAB5_HTTP_PORT=8504", "LAB5_HTTP_PORT=8504 is already LAB5_STATS_PORT's port, and lab 5 (Round robin) needs one "
                            "for each; try LAB5_HTTP_PORT=9500"),
], ids=["out of range", "not a number", "the lab's own stats port"])
def test_a_port_setting_that_cannot_work_ends_in_one_line(runtime, setting, said):
    """Before anything starts, in either runtime: which variable, what is wrong, what would
    work. (Before, these ended in a traceback, or in Compose's 'non-unique elements'.)"""
    name, value = setting.split("=")
    code, output = labkit("run", "5", "--runtime", runtime, **{name: value})
    assert (code, output) == (2, f"labkit: {said}\n")
    assert runner.leftovers() == []


def test_a_misspelt_lab_setting_is_named_and_the_lab_runs_anyway():
    """LAB5_PORT for LAB5_HTTP_PORT: a warning naming the settings lab 5 reads."""
    try:
        code, output = labkit("up", "5", "--runtime", "local", LAB5_PORT="9500")
        assert code == 0, output
        assert ("labkit: warning: lab 5 (Round robin) has no setting LAB5_PORT, so it is ignored. "
                "Its settings: LAB5_HTTP_PORT, LAB5_STATS_PORT") in output
    finally:
        labkit("down")
    assert runner.leftovers() == []


def test_docker_asked_for_with_no_engine_says_how_to_start_one(request):
    code, output = labkit("run", "5", "--runtime", "docker", DOCKER_HOST=NO_ENGINE)
    assert code == 1
    assert "No Docker engine answers here" in output and "RUNTIME=local make lab-N" in output
    recorded(request, "no-docker-engine", output)


def test_neither_docker_nor_haproxy_says_how_to_get_either(request, no_haproxy_path):
    code, output = labkit("run", "5", DOCKER_HOST=NO_ENGINE, PATH=no_haproxy_path, RUNTIME="auto")
    assert code == 1
    assert "Neither runtime can run here" in output
    assert "[docker] No Docker engine answers here" in output and "[local] haproxy" in output
    recorded(request, "neither-runtime", output, where=without_haproxy_here())


def test_local_runtime_without_haproxy_says_how_to_get_it(request, no_haproxy_path):
    code, output = labkit("run", "5", "--runtime", "local", PATH=no_haproxy_path)
    assert code == 1
    assert "haproxy" in output and ("apt-get install haproxy" in output or "not on your PATH" in output)
    recorded(request, "no-haproxy", output, where=without_haproxy_here())


def test_make_down_with_nothing_running_is_fine(request):
    result = subprocess.run(["make", "--no-print-directory", "down"], cwd=paths.ROOT, capture_output=True, text=True)
    assert result.returncode == 0
    assert "No lab of the kit is running." in result.stdout
    # Where Docker holds a network it will not delete (moby#42119), `make down` says so
    # after its message. That is the engine's state, not the kit's message: the page shows
    # the message alone.
    message = result.stdout.split(docker_runtime.STUCK_NETWORK.split("{name}")[0])[0]
    recorded(request, "nothing-to-stop", message)


def test_asking_for_the_other_runtime_while_a_lab_runs_says_how_to_switch(request):
    try:
        assert labkit("up", "5", "--runtime", "local")[0] == 0
        code, output = labkit("run", "5", "--runtime", "docker")
    finally:
        labkit("down")
    assert code == 1
    assert "already up in the local runtime" in output and "make down" in output
    recorded(request, "other-runtime-running", output)


def test_checking_an_exercise_while_its_lab_runs_says_how_to_stop_only_that_lab():
    try:
        assert labkit("up", "5", "--runtime", "local")[0] == 0
        code, output = labkit("exercise", "5", "--solution")
    finally:
        labkit("down")
    assert code == 1
    assert "lab 5 (Round robin) is running" in output and output.rstrip().endswith("Stop it first: make down-5")


@pytest.mark.labs(5, 9)
def test_make_down_n_stops_that_lab_and_no_other():
    try:
        for number in (5, 9):
            assert labkit("up", str(number), "--runtime", "local")[0] == 0
        result = subprocess.run(["make", "--no-print-directory", "down-5"], cwd=paths.ROOT, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        assert [r.lab for r in runner.running()] == [9]
    finally:
        labkit("down")
    assert runner.leftovers() == []


def test_the_help_texts_the_reference_page_shows(request):
    result = subprocess.run(["make", "--no-print-directory", "help"], cwd=paths.ROOT, capture_output=True, text=True)
    assert result.returncode == 0 and "make lab-5" in result.stdout
    recorded(request, "make-help", result.stdout)
    code, output = labkit("--help")
    assert code == 0 and "{run,up,down,status" in output
    recorded(request, "labkit-help", output)


def test_an_exercise_as_a_learner_meets_it(request, sandbox, runtime):
    """The first `make check-lab-5` makes the learner's copy and says what is still off; once
    the copy does the task, the same command passes."""
    env = dict(LABKIT_HOME=str(sandbox))
    code, output = labkit("exercise", "5", "--runtime", runtime, **env)
    assert code == 1, output
    copy = sandbox / "labs" / "05-round-robin" / "exercise" / "haproxy.cfg"
    assert copy.read_text() == (sandbox / "labs" / "05-round-robin" / "haproxy.cfg").read_text()
    assert "Your copy of lab 5's config is labs/05-round-robin/exercise/haproxy.cfg" in output
    assert "Not yet:" in output and "Done" not in output
    if runtime == "local":
        recorded(request, "exercise-not-yet", output)

    shutil.copyfile(copy.parent / "solution.cfg", copy)
    code, output = labkit("exercise", "5", "--runtime", runtime, **env)
    assert code == 0, output
    assert "Your copy" not in output and output.rstrip().endswith("Done: it does what the task asks.")
    assert runner.leftovers() == []
