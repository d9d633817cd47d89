"""pytest plugin (registered by the package): --runtime, and the `lab` fixture that starts
the lab whose folder holds the test file, in each runtime asked for.

    --runtime local    the default: the real haproxy binary and the backends as processes
    --runtime docker   Docker Compose; no engine is an error, never a skip
    --runtime auto     local, and docker too where an engine answers and can have the labs' images
                       (what `make test` runs)

With pytest-xdist (`-n 4 --dist loadgroup`, as `make test` runs it), labs run side by side:
each worker has its own share of the kit's state (paths.WORKER), and the tests that start
the same lab, or labs together, run in one worker, one after another, since a lab's ports
are the same in both runtimes. A test names the labs it starts: its lab folder, the
module's LAB, a `lab`/`number`/`lab_number` parameter, or @pytest.mark.labs(5, 9);
starting any other lab fails it (runner.TEST_LABS).
"""

import os
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pytest

from . import demo, images, mutants, paths, runner
from .errors import LabkitError, treat_kill_as_ctrl_c
from .labs import Lab, find_lab, lab_for_path
from .running import RunningLab
from .runtimes import docker as docker_runtime
from .runtimes import named


def pytest_addoption(parser):
    parser.addoption("--runtime", default="local", help="local, docker, auto (local + docker when an engine answers), or a comma list")
    parser.addoption("--update-outputs", action="store_true",
                     help="rewrite docs/outputs/ from this run's real output instead of comparing with it")


def selected_runtimes(config) -> list[str]:
    value = config.getoption("--runtime")
    if value == "auto":
        engine = docker_runtime.engine_if_any()
        reason = engine and images.why_none_can_be_had(engine)
        if reason:
            config.pluginmanager.get_plugin("terminalreporter").write_line(
                f"--runtime auto: local only. {reason}.", yellow=True)
        return ["local", "docker"] if engine and not reason else ["local"]
    chosen = [v.strip() for v in value.split(",") if v.strip()]
    for name in chosen:
        try:
            named(name).require()
        except Exception as error:
            raise pytest.UsageError(f"--runtime {name}: {error}") from None
    return chosen


# What make test and make soak run after the parallel part: the tests marked `alone`.
ALONE_PASS = ["-n", "0", "-m", "alone", "tests/test_workshop.py"]


def is_worker(config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config):
    config.addinivalue_line("markers", "runtime: the runtime a test runs a lab in")
    config.addinivalue_line("markers", "labs(*numbers): the labs a test starts, beyond what its folder, "
                                       "LAB or parameters say")
    config.addinivalue_line("markers", "alone: needs the machine to itself (it removes the kit's images); "
                                       "skipped in xdist workers, run by make test's one-process pass")
    if is_worker(config):
        # A suite run by a test of this suite (make soak, say) nests inside the outer worker's share.
        outer = paths.worker()
        os.environ[paths.WORKER] = f"{outer}/{config.workerinput['workerid']}" if outer else config.workerinput["workerid"]
    # So that the labs' teardown runs: pytest handles Ctrl-C but not `kill`.
    treat_kill_as_ctrl_c()


def labs_started(item) -> set[int]:
    """The numbers of the labs a test starts (see the module's docstring)."""
    marker = item.get_closest_marker("labs")
    if marker:
        return set(marker.args)
    try:
        return {lab_for_path(item.path).number}
    except LabkitError:
        pass  # a test of the kit, in tests/
    if getattr(item.module, "LAB", None) is not None:
        return {item.module.LAB}
    params = getattr(item, "callspec", None) and item.callspec.params or {}
    for name in ("lab", "number", "lab_number"):
        value = params.get(name)
        if isinstance(value, Lab):
            return {value.number}
        if isinstance(value, int):
            return {value}
    return set()


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(config, items):
    """One xdist group for the tests that start the same lab, or labs that run together."""
    leader = {}

    def find(number):
        while leader.setdefault(number, number) != number:
            number = leader[number]
        return number

    started = {item: labs_started(item) for item in items}
    for numbers in started.values():
        for number in numbers:
            leader[find(number)] = find(min(numbers))
    for item, numbers in started.items():
        if is_worker(config) and item.get_closest_marker("alone"):
            item.add_marker(pytest.mark.skip(reason=ALONE))
        item.stash[LABS_STARTED] = numbers
        if numbers:
            item.add_marker(pytest.mark.xdist_group(f"lab-{find(min(numbers))}"))


LABS_STARTED = pytest.StashKey[set]()
ALONE = ("it would take away what the other workers' labs use; make test runs it after the rest, "
         "in one process (" + " ".join(ALONE_PASS) + ")")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    os.environ[runner.TEST_LABS] = ",".join(str(n) for n in sorted(item.stash.get(LABS_STARTED, set())))


# The runtimes the controller chose, for its xdist workers: were each to look for itself
# (--runtime auto), one that saw Docker and one that did not would collect different tests,
# and xdist would abort.
CHOSEN_RUNTIMES = "LABKIT_CHOSEN_RUNTIMES"


def pytest_sessionstart(session):
    # Before xdist's own sessionstart (trylast) starts the workers, which inherit the environment.
    if is_worker(session.config) and os.environ.get(CHOSEN_RUNTIMES):
        session.config.labkit_runtimes = os.environ[CHOSEN_RUNTIMES].split(",")
    else:
        session.config.labkit_runtimes = selected_runtimes(session.config)
        os.environ[CHOSEN_RUNTIMES] = ",".join(session.config.labkit_runtimes)
    if is_worker(session.config):
        return  # the controller has looked, and its workers' shares are empty
    if docker_runtime.engine_answers():
        # Networks no container uses are what a crashed earlier run left: clear them.
        for note in docker_runtime.remove_empty_networks(docker_runtime.client()):
            session.config.pluginmanager.get_plugin("terminalreporter").write_line(note, yellow=True)
    running = runner.leftovers()
    if running:
        pytest.exit("The kit has something running, and the tests need its ports:\n  "
                    + "\n  ".join(running) + "\nStop it with `make down`, then run the tests again.", returncode=3)


@pytest.hookimpl(trylast=True)  # under xdist: once the workers have ended
def pytest_sessionfinish(session, exitstatus):
    if is_worker(session.config):
        return  # its status no longer counts: the controller's look, after the workers, does
    left = runner.leftovers()
    if left:
        session.config.pluginmanager.get_plugin("terminalreporter").write_line(
            "FAILED: the tests left these behind (now removed):\n  " + "\n  ".join(left), red=True)
        runner.down_all(say=lambda message: None)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(autouse=True, scope="module")
def nothing_new_left_behind():
    """The suite polices itself: whatever a test module adds to the kit's processes,
    containers, networks, state files or keys, and does not take away, fails it. (Looking
    once per module, not per test: each look lists every process and asks the engine.)"""
    before = Counter(runner.leftovers())
    yield
    new = sorted((Counter(runner.leftovers()) - before).elements())
    if new:
        runner.down_all(say=lambda message: None)
        pytest.fail(f"this module's tests left these behind (now removed): {new}", pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test that used a lab shows that lab's state and logs in its report: under
    Docker, `docker compose ps` and `docker compose logs`."""
    outcome = yield
    report = outcome.get_result()
    running_lab = item.funcargs.get("lab") if hasattr(item, "funcargs") else None
    if report.failed and isinstance(running_lab, RunningLab):
        try:
            text = running_lab.diagnostics()
        except Exception as error:  # the report must not hide the failure behind another
            text = f"(could not collect the lab's logs: {error})"
        report.sections.append((f"lab {running_lab.lab.number} ({running_lab.runtime.name}): state and logs", text))


def pytest_generate_tests(metafunc):
    if "runtime" in metafunc.fixturenames:
        metafunc.parametrize("runtime", metafunc.config.labkit_runtimes, scope="module")
    if "docker_engine" in metafunc.fixturenames:
        # Tests of Docker alone run whenever Docker is among the runtimes asked for; with
        # `--runtime auto` that is every machine where an engine answers.
        metafunc.parametrize("docker_engine", ["docker"] if "docker" in metafunc.config.labkit_runtimes else [])


@pytest.fixture(scope="module")
def lab(request, runtime):
    """The lab of this test file (or of the module's LAB number), started in `runtime` for
    the module and stopped after it; the teardown fails if anything of it survives."""
    number = getattr(request.module, "LAB", None)
    this_lab = find_lab(number) if number is not None else lab_for_path(request.path)
    if os.environ.get(mutants.CONFIG_VARIABLE):  # `make mutants`: a wrong config in the lab's place
        this_lab = this_lab.with_config(os.environ[mutants.CONFIG_VARIABLE])
    running = runner.up(this_lab, runtime, say=lambda message: None)
    assert running.started, f"{this_lab} was already running"
    try:
        yield running
    finally:
        runner.stop(running.record)
    left = runner.leftovers()
    assert not left, f"stopping {this_lab} left these behind: {left}"


@dataclass(frozen=True)
class DemoRun:
    output: str    # what `make lab-N` prints once the lab is up
    measured: Any  # what the lab's demo returned, for the tests to assert on


@pytest.fixture(scope="module")
def demo_run(lab) -> DemoRun:
    """The lab's demonstration, run once on the module's lab as `make lab-N` runs it on a
    lab just started: the checks ask for it first, before any other traffic. Its output is
    the docs page's, and a test that needs the same traffic (an outage, say) reads what the
    demo measured instead of making it again."""
    said = []
    measured = demo.run(lab, say=said.append)
    demo.explore(lab, say=said.append)
    return DemoRun("\n".join(said).strip() + "\n", measured)
