"""The commands a learner types, run as they type them: make lab-5, labkit status, make down,
Ctrl-C. After each, nothing of the kit may be left running."""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time

import psutil
import pytest

from labkit import images, paths, recording, runner, state, stats
from labkit.labs import find_lab
from labkit.running import RunningLab
from labkit.runtimes import docker as docker_runtime

LABKIT = str(paths.ROOT / ".venv" / "bin" / "labkit")


def make(*targets, runtime, timeout=900, **env):
    return subprocess.run(
        ["make", "--no-print-directory", *targets],
        cwd=paths.ROOT, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "RUNTIME": runtime, **env},
    )


def demo_part(stdout: str) -> str:
    """What `make lab-N` prints once the lab is up: the same in every runtime and every run
    of a deterministic lab, so the docs page can show it."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("  up and healthy in"))
    return "\n".join(lines[start + 1:]).strip() + "\n"


@pytest.mark.parametrize("number", [5, 3], ids=["lab-5 (the default demo)", "lab-3 (a demo.py)"])
def test_make_lab_shows_what_its_docs_page_shows_and_keeps_running(runtime, number, request):
    """The command as a learner types it. (Every lab's demonstration is compared with its
    page by the lab's own tests, on the lab they start: labkit.checks.)"""
    lab = find_lab(number)
    try:
        result = make(f"lab-{lab.number}", runtime=runtime)
        assert result.returncode == 0, result.stdout + result.stderr
        running = RunningLab(lab, state.load(lab.number))
        if runtime == "docker" and not any(os.environ.get(v) for v in images.BASE_VARIABLES):
            # The offline base is Debian 13 with its HAProxy 3.0; the official image is the pinned 3.2.
            offline = images.base_image_environment(docker_runtime.client(), say=lambda message: None)
            assert running.haproxy_version() == ("3.0" if offline else "3.2")
        deterministic = lab.manifest.get("demo", {}).get("deterministic", True)
        recording.check(recording.lab_output(lab, runtime), demo_part(result.stdout),
                        update=request.config.getoption("--update-outputs"),
                        where=f"HAProxy {running.haproxy_version()}", sources=recording.sources_digest(lab),
                        compare=(lambda text: text) if deterministic else recording.skeleton)

        status = subprocess.run([LABKIT, "status", "--json"], capture_output=True, text=True, check=True)
        assert [(s["lab"], s["runtime"]) for s in json.loads(status.stdout)] == [(lab.number, runtime)]
    finally:
        down = make("down", runtime=runtime)
    assert down.returncode == 0, down.stderr
    assert runner.leftovers() == []
    # Nothing to stop is not an error.
    assert make("down", runtime=runtime).returncode == 0


@pytest.mark.labs(5)
def test_make_lab_twice_starts_no_second_copy(runtime):
    try:
        assert make("lab-5", runtime=runtime).returncode == 0
        before = runner.leftovers()
        again = make("lab-5", runtime=runtime)
        assert again.returncode == 0
        assert "already up" in again.stdout
        assert runner.leftovers() == before, "a second make started a second copy"
    finally:
        assert make("down", runtime=runtime).returncode == 0
    assert runner.leftovers() == []


@pytest.mark.labs(5)
def test_status_json_is_what_scripts_rely_on(runtime):
    """The contract instructors' scripts use, spelled out for lab 5."""
    try:
        subprocess.run([LABKIT, "up", "5", "--runtime", runtime], capture_output=True, check=True)
        status = subprocess.run([LABKIT, "status", "--json"], capture_output=True, text=True, check=True)
    finally:
        subprocess.run([LABKIT, "down"], capture_output=True, check=True)
    assert json.loads(status.stdout) == [{
        "lab": 5, "runtime": runtime,
        "frontends": {"http_front": "http://127.0.0.1:8500"},
        "stats": "http://127.0.0.1:8504/stats",
    }]


@pytest.mark.labs(5)
def test_compose_v1_still_runs_lab_5(docker_engine):
    """Debian 12 and Ubuntu 22.04 ship Compose v1 (docker-compose 1.29), and the kit keeps
    working there: lab 5 up, its round robin checked, down. (CI runs the rest of the Docker
    half on Compose v2: LABKIT_COMPOSE=v2 in .ci/run.)"""
    if not (shutil.which("docker-compose") and docker_runtime.is_compose_v1(docker_runtime.COMPOSE_V1)):
        pytest.skip("no Compose v1 here")
    try:
        result = make("lab-5", runtime="docker", **{docker_runtime.COMPOSE: "v1"})
        assert result.returncode == 0, result.stdout + result.stderr
        assert state.load(5).compose == docker_runtime.COMPOSE_V1
        rows = {line.split()[0]: line.split()[1:4] for line in result.stdout.splitlines() if line.startswith("app")}
        assert rows == {app: ["10", "10", "10"] for app in ("app1", "app2", "app3")}, result.stdout
    finally:
        down = make("down", runtime="docker")
    assert down.returncode == 0, down.stdout + down.stderr
    assert runner.leftovers() == []


class Output:
    """Everything a process prints, read by one thread, so a test can wait for a line."""

    def __init__(self, stream):
        self.lines = []
        self.reader = threading.Thread(target=lambda: self.lines.extend(stream), daemon=True)
        self.reader.start()

    def wait_for(self, marker: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.reader.is_alive():
            if any(marker in line for line in self.lines):
                return True
            time.sleep(0.05)
        return any(marker in line for line in self.lines)

    def text(self, timeout: float = 60) -> str:
        self.reader.join(timeout)
        return "".join(self.lines)


def ctrl_c(make_process) -> None:
    """A terminal's Ctrl-C signals make and the kit together, as killpg does here."""
    os.killpg(make_process.pid, signal.SIGINT)


def diagnostics() -> str:
    """The end of each lab's compose and process logs, and the engine's containers."""
    logs = sorted(log for share in paths.shares() for log in paths.share_dir(share).glob("run/*/*.log"))
    parts = [f"--- {paths.shown(log)}:\n" + "\n".join(log.read_text(errors="replace").splitlines()[-30:])
             for log in logs]
    if shutil.which("docker"):
        parts.append(subprocess.run(["docker", "ps", "-a"], capture_output=True, text=True, timeout=60).stdout)
    return "\n".join(parts)


def interrupt_make(targets: list[str], runtime: str, ready, send=ctrl_c, **env) -> tuple[int, str]:
    """Run `make targets` as a terminal's foreground job and `send` it a signal once
    `ready(output)` returns. Returns make's exit status and all it printed, once make and
    everything it started have ended."""
    make_process = subprocess.Popen(
        ["make", "--no-print-directory", *targets], cwd=paths.ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        env={**os.environ, "RUNTIME": runtime, "PYTHONUNBUFFERED": "1", **env},
        # A terminal's Ctrl-C reaches a foreground job even when this suite itself runs
        # where SIGINT is ignored (a background job of a script, say).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    output = Output(make_process.stdout)
    try:
        ready(output)
        started = psutil.Process(make_process.pid).children(recursive=True)
        if make_process.poll() is not None:
            runner.down_all(say=lambda message: None)  # what make left running would spoil the next test
            pytest.fail("make had ended before the signal could be sent. It printed:\n" + output.text(0))
        send(make_process)
        try:
            make_process.wait(300)
        except subprocess.TimeoutExpired:
            for process in started:  # labkit prints where it is stuck (faulthandler)
                with contextlib.suppress(psutil.Error):
                    if any(word.endswith("bin/labkit") for word in process.cmdline()):
                        process.send_signal(signal.SIGUSR1)
            time.sleep(2)
            pytest.fail("make had not ended 300 s after the signal. It printed:\n" + output.text(0)
                        + "\n" + diagnostics())
        psutil.wait_procs(started, timeout=60)
    finally:
        if make_process.poll() is None:
            for process in psutil.Process(make_process.pid).children(recursive=True):
                with contextlib.suppress(psutil.NoSuchProcess):  # it may end on its own meanwhile
                    process.kill()  # the soak's pytest has a session of its own, out of killpg's reach
            os.killpg(make_process.pid, signal.SIGKILL)
            runner.down_all(say=lambda message: None)
    return make_process.returncode, output.text()


@pytest.mark.labs(5)
@pytest.mark.parametrize("moment, marker", [("while starting", "Starting lab 5"),
                                            ("during the traffic", "Sending")])
def test_ctrl_c_during_make_lab_5_stops_everything(runtime, moment, marker):
    def ready(output):
        assert output.wait_for(marker, timeout=900), output.text(0)
        if moment == "during the traffic":
            time.sleep(1)  # well inside a million requests

    returncode, printed = interrupt_make(["lab-5", "REQUESTS=1000000"], runtime, ready)
    assert returncode != 0
    assert "Interrupted; what this command started has been stopped." in printed
    left = runner.leftovers()
    assert left == [], f"{left}\nmake printed:\n{printed}\n{diagnostics()}"


@pytest.mark.labs(1)
def test_ctrl_c_during_threaded_traffic_prints_no_traceback(runtime):
    """Lab 1's traffic leaves from a thread per request: interrupted while app2 is down, the
    requests still under way must end without a word from their threads."""
    def ready(output):
        assert output.wait_for("Traffic to", timeout=900), output.text(0)
        # HAProxy's own word that app2 has failed a check ("UP 1/3", on its way down), not a
        # fixed sleep, which on a loaded machine once outlasted the whole demo. Until it is
        # DOWN, HAProxy still sends requests to app2: some are under way.
        [lab] = runner.running()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status = {row["svname"]: row["status"] for row in stats.server_rows(stats.rows(lab.stats), "servers")}
            if status["app2"] != "UP":
                return
            time.sleep(0.05)
        pytest.fail(f"HAProxy still calls app2 UP 60 s into the traffic: {status}")

    returncode, printed = interrupt_make(["lab-1"], runtime, ready)
    assert returncode != 0
    assert "Interrupted; what this command started has been stopped." in printed
    assert "Traceback" not in printed and "Exception in thread" not in printed, printed
    assert runner.leftovers() == []


# One lab's tests are enough to be interrupted in: lab 10's take half a minute. make test and
# make soak pass PYTEST_ADDOPTS on to pytest.
ONE_LABS_TESTS = {"PYTEST_ADDOPTS": "labs/10-failover"}


def wait_for_a_lab(output, until_its_tests_run: bool) -> None:
    """Until a lab of the kit is starting, or, with `until_its_tests_run`, has started and its
    tests have had a second."""
    deadline = time.monotonic() + 900
    while not (labs := runner.running()) and time.monotonic() < deadline and output.reader.is_alive():
        time.sleep(0.05)
    assert labs, output.text(0)
    if until_its_tests_run:
        stats.wait_until_checked(labs[0].stats, timeout=60)
        time.sleep(1)


@pytest.mark.labs(10)
@pytest.mark.parametrize("moment", ["while its lab starts", "during its tests"])
def test_ctrl_c_during_make_soak_lets_the_run_stop_its_lab(runtime, moment):
    """The soak's pytest needs time after a Ctrl-C to stop the lab it has up."""
    returncode, printed = interrupt_make(
        ["soak", "N=1"], runtime, lambda output: wait_for_a_lab(output, moment == "during its tests"),
        **ONE_LABS_TESTS)
    assert returncode != 0, printed
    assert "Interrupted; what this command started has been stopped." in printed
    assert runner.leftovers() == []


@pytest.mark.labs(10)
def test_kill_during_make_test_stops_its_lab(runtime):
    """`kill` of the test run (or a closed terminal) stops its lab as Ctrl-C does."""
    def is_pytest(process) -> bool:
        try:
            return any(word.endswith("bin/pytest") for word in process.cmdline())
        except psutil.Error:  # a child that has just ended (a zombie, say) is not pytest
            return False

    def kill_pytest(make_process):
        pytest_process, = filter(is_pytest, psutil.Process(make_process.pid).children(recursive=True))
        pytest_process.terminate()

    returncode, printed = interrupt_make(
        ["test"], runtime, lambda output: wait_for_a_lab(output, until_its_tests_run=True),
        send=kill_pytest, **ONE_LABS_TESTS)
    assert returncode != 0, printed
    assert runner.leftovers() == []


@pytest.mark.labs(5)
def test_a_failing_test_session_leaves_nothing_behind(runtime, tmp_path):
    failing = tmp_path / "test_failing_lab.py"
    failing.write_text(textwrap.dedent("""
        LAB = 5

        def test_that_fails_while_the_lab_runs(lab):
            assert lab.answers_in_turn(3)
            assert False, "deliberate failure"
    """))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", str(failing), "--runtime", runtime, "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), "-q"],
        cwd=tmp_path, capture_output=True, text=True, timeout=900,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "deliberate failure" in result.stdout
    assert runner.leftovers() == []
