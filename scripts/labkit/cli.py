"""labkit: the command behind the Makefile's targets."""

import argparse
import json
import os
import signal
import sys

from . import demo, paths, runner
from .errors import LabkitError, SettingError, treat_kill_as_ctrl_c
from .labs import all_labs, find_lab, lab_list_text


def cmd_run(args) -> int:
    running = runner.up(find_lab(args.lab), args.runtime, checked=False)
    try:
        demo.run(running, requests=args.requests)
    except BaseException:
        if running.started:  # a Ctrl-C during the demo: leave nothing of this run behind
            print(f"\nStopping {running} ...")
            runner.stop(running.record)
        raise
    demo.explore(running)
    return 0


def cmd_up(args) -> int:
    demo.explore(runner.up(find_lab(args.lab), args.runtime, checked=False))
    return 0


def cmd_down(args) -> int:
    runner.down(args.lab)
    return 0


def cmd_status(args) -> int:
    records = [r.public() for r in runner.running()]
    if args.json:
        print(json.dumps(records, indent=2))
    elif not records:
        print("No lab is running. Start one with: make lab-N")
    else:
        for r in records:
            print(f"lab {r['lab']} ({r['runtime']}): " + ", ".join(f"{k} {v}" for k, v in r["frontends"].items())
                  + (f", stats {r['stats']}" if r["stats"] else ""))
    return 0


def running_lab(number: str):
    """The lab as it runs now, started by an earlier command."""
    from . import state
    from .running import RunningLab
    from .runtimes import named

    lab = find_lab(number)
    record = state.load(lab.number)
    if not record or not named(record.runtime).alive(record):
        raise LabkitError(f"{lab} is not running. Start it with: make lab-{lab.number}")
    return RunningLab(lab, record, started=False)


# `labkit service` actions that signal the backend app (backends/app.py): its port stays open.
HEALTH_SIGNALS = {"fail-checks": (signal.SIGUSR1, "now fails its health checks"),
                  "break": (signal.SIGHUP, "is broken: it answers every request with a 500"),
                  "mend": (signal.SIGUSR2, "answers normally again"),
                  "pass-checks": (signal.SIGUSR2, "passes its health checks again")}


def cmd_service(args) -> int:
    """Stop, kill or start one of a running lab's services, in whichever runtime it runs."""
    running = running_lab(args.lab)
    lab = running.lab
    if args.action == "start":
        running.start_service(args.service)
    elif args.action in HEALTH_SIGNALS:
        running.signal_service(args.service, HEALTH_SIGNALS[args.action][0])
    else:
        running.stop_service(args.service, kill=args.action == "kill")
    done = dict(stop="stopped", kill="killed", start="started",
                **{action: said for action, (_, said) in HEALTH_SIGNALS.items()})
    print(f"lab {lab.number}: {args.service} {done[args.action]}")
    return 0


def cmd_api(args) -> int:
    """One Runtime API command to a running lab, as socat would send it."""
    print(running_lab(args.lab).runtime_api(args.api_command), end="")
    return 0


def cmd_ask(args) -> int:
    """Requests to a running lab from a source address of the learner's choosing: locally
    from 127.0.N.h (what curl --interface does), under Docker from a client container on
    the lab's network, where an address of the host's own cannot be chosen. Prints, per
    answer, the source, the status and the server that answered (X-Backend)."""
    import ipaddress

    if not args.path.startswith("/"):
        raise SettingError(f"the path begins with /: {'/' + args.path}")
    if args.count < 1:
        raise SettingError("--count is 1 or more")
    running = running_lab(args.lab)
    if args.frontend not in running.frontends or not running.frontends[args.frontend].startswith("http"):
        http = [name for name, url in running.frontends.items() if url.startswith("http")]
        raise SettingError(f"lab {running.lab.number} has no HTTP frontend {args.frontend!r}; it has "
                           + ", ".join(http))
    try:
        host = int(ipaddress.IPv4Address(args.source)) & 0xFF
    except ipaddress.AddressValueError:
        raise SettingError(f"--from {args.source}: not an IPv4 address") from None
    if not 1 <= host <= 254:
        raise SettingError(f"--from {args.source}: the last number is 1 to 254")
    if any(":" not in header for header in args.header):
        raise SettingError("--header takes 'NAME: VALUE'")
    headers = {name.strip(): value.strip() for name, value in (h.split(":", 1) for h in args.header)}
    with running.clients(hosts=[host]) as clients:
        if clients.addresses != [args.source]:
            raise SettingError(f"--from {args.source}: lab {running.lab.number}'s clients in the {running.runtime.name} "
                               f"runtime come from its own network, e.g. --from {clients.addresses[0]}")
        for answer in clients.answers(args.source, args.frontend, args.path, args.count, method=args.method,
                                      headers=headers):
            print(args.source, answer.status, answer.backend or "-")
    return 0


def cmd_load(args) -> int:
    """Locust against a running lab: one frontend (the first, unless named), for a set time."""
    from . import load

    running = running_lab(args.lab)
    http = [name for name, url in running.frontends.items() if url.startswith("http")]
    frontend = args.frontend or (http[0] if http else None)
    if frontend not in http:
        raise SettingError(f"lab {running.lab.number} has no HTTP frontend {frontend!r}; it has " + ", ".join(http))
    if args.users < 1 or args.rate <= 0 or args.time < 1:
        raise SettingError("USERS and TIME are 1 or more, and RATE more than 0")
    if args.ui:
        return load.ui(running, frontend, args.users, args.rate, args.time, args.impatient)
    kind = "impatient users (no pause)" if args.impatient else "users (visitors and API clients, 3 to 1)"
    print(f"Locust: {args.users} {kind}, started {args.rate:g} a second, against {frontend} "
          f"({running.frontends[frontend]}/) for {args.time} s ...")
    result = load.run(running, frontend, args.users, args.rate, args.time, args.impatient)
    print(load.summary(result) + "\n")
    print(load.server_table(result))
    if result.backend and running.stats_url:
        print("(Locust: requests named by their X-Backend header; HAProxy: the answers it counted from each "
              "server in this run: " + ("the same)" if load.counts_agree(result) else
                                        "they differ: did another client send requests too?)"))
    return 0


def cmd_doctor(args) -> int:
    from . import doctor

    return doctor.report()


def cmd_images(args) -> int:
    from pathlib import Path

    from . import images
    from .runtimes.docker import client

    if args.action == "build":
        print("Building every image the labs need ...")
        print("Ready: " + ", ".join(images.build_all(client())))
    elif args.action == "save":
        images.save(client(), Path(args.file))
        print(f"Saved. On a machine without internet: make images-load FILE={args.file}")
    else:
        images.load(Path(args.file))
        print("Loaded. The labs start from these images, with no registry.")
    return 0


def cmd_docs_assets(args) -> int:
    from . import docs_assets

    docs_assets.ensure_mermaid()
    return 0


def cmd_soak(args) -> int:
    from . import soak

    return soak.soak(args.runs, args.runtime)


def cmd_exercise(args) -> int:
    from . import exercises

    return exercises.check(args.lab, args.solution, args.runtime, hint=args.hint)


def cmd_mutants(args) -> int:
    from . import mutants

    return mutants.run(args.labs, args.runtime)


def cmd_bench(args) -> int:
    from . import bench

    return bench.bench(args.runtime, suite=not args.no_suite, numbers=args.labs, with_load=not args.no_load)


def cmd_prepare_tests(args) -> int:
    """What `make test` needs beyond .venv, installed where that can be done (system.py):
    haproxy (every run has the local runtime), chromium for the browser test, socat for
    the pages' Runtime API commands, and under
    Docker the labs' images, built before the first test rather than inside it, and the
    images that check every config on HAProxy 3.0 and 3.2 (tests/test_configs.py)."""
    import shutil

    from . import images, system
    from .runtimes import docker as docker_runtime
    from .runtimes import named

    named("local").require()
    if not (shutil.which("chromium") or shutil.which("chromium-browser")) and not system.install(
            "chromium", "The test suite looks at every docs page in a real browser"):
        print(f"labkit: no chromium here, so the browser test will be skipped ({system.how_to_install('chromium')})")
    if not shutil.which("socat"):  # the pages' own socat commands to the Runtime API, which the tests run
        system.install("socat", "The labs' pages talk to HAProxy's Runtime API with socat")
    engine = docker_runtime.engine_if_any() if args.runtime in ("auto", "docker") else None
    if engine and (args.runtime == "docker" or not images.why_none_can_be_had(engine)):
        images.ensure_built(engine, paths.state_dir() / "images.log")
        images.ensure_check_images(engine)
        docker_runtime.compose_command()  # with LABKIT_COMPOSE=v2 and only v1 here, fetched now
    return 0


def cmd_list(args) -> int:
    print(lab_list_text(all_labs()))
    return 0


def cmd_check(args) -> int:
    """haproxy -c on a lab's config, with the server addresses mapped as the local runtime does."""
    lab = find_lab(args.lab)
    said = runner.check_offline(lab)
    warnings = [line for line in said.splitlines() if "WARNING" in line or "ALERT" in line]
    print("\n".join(warnings + [f"{paths.shown(lab.config)}: HAProxy accepts it"
                                 + (f", with {len(warnings)} warning(s)." if warnings else ".")]))
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="labkit", description="Run the HAProxy labs.")
    sub = p.add_subparsers(dest="command", required=True)
    runtime_help = "auto (Docker when an engine answers, else local), docker or local; default: $RUNTIME or auto"

    run = sub.add_parser("run", help="start a lab, send demo traffic, show who answered; the lab keeps running")
    run.add_argument("lab")
    run.add_argument("--runtime", default=os.environ.get("RUNTIME", "auto"), help=runtime_help)
    run.add_argument("--requests", type=int, help="how many demo requests to send")
    run.set_defaults(func=cmd_run)

    up = sub.add_parser("up", help="start a lab and wait until it is healthy")
    up.add_argument("lab")
    up.add_argument("--runtime", default=os.environ.get("RUNTIME", "auto"), help=runtime_help)
    up.set_defaults(func=cmd_up)

    down = sub.add_parser("down", help="stop one lab, or every lab the kit started")
    down.add_argument("lab", nargs="?")
    down.set_defaults(func=cmd_down)

    status = sub.add_parser("status", help="the running labs and their URLs")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)

    service = sub.add_parser("service", help="stop, kill or start one service of a running lab, make its "
                                            "health checks fail (a drain) and pass again, or break and mend it")
    service.add_argument("lab")
    service.add_argument("service", help="a service of the lab's compose.yaml, e.g. app2")
    service.add_argument("action", choices=["stop", "kill", "start", *HEALTH_SIGNALS])
    service.set_defaults(func=cmd_service)

    api = sub.add_parser("api", help="send a running lab's HAProxy one Runtime API command and print its answer")
    api.add_argument("lab")
    api.add_argument("api_command", metavar="command",
                     help='e.g. "show servers state" or "set server ops/app2 state drain"')
    api.set_defaults(func=cmd_api)

    ask = sub.add_parser("ask", help="send a running lab requests from a source address you choose (under "
                                     "Docker, from inside the lab's network); print who answered")
    ask.add_argument("lab")
    ask.add_argument("path", nargs="?", default="/", help="default: /")
    ask.add_argument("--from", dest="source", required=True, metavar="ADDRESS",
                     help="127.0.N.h on your machine; under Docker, an address of the lab's network")
    ask.add_argument("--frontend", default="http_front", help="default: http_front")
    ask.add_argument("--count", type=int, default=1, help="how many requests, one after another (default 1)")
    ask.add_argument("--method", default="GET")
    ask.add_argument("--header", "-H", action="append", default=[], metavar="'NAME: VALUE'")
    ask.set_defaults(func=cmd_ask)

    load = sub.add_parser("load", help="put a running lab under load with Locust, for a set time, and show "
                                       "requests/s, failures and response times per server")
    load.add_argument("lab")
    load.add_argument("--frontend", help="default: the lab's first HTTP frontend")
    load.add_argument("--users", type=int, default=50, help="simulated users (default 50)")
    load.add_argument("--rate", type=float, default=50, help="users started per second (default 50)")
    load.add_argument("--time", type=int, default=10, help="seconds of load (default 10)")
    load.add_argument("--impatient", action="store_true",
                      help="users that send the next request the moment an answer comes: the most it can do")
    load.add_argument("--ui", action="store_true", help="Locust's web UI on 127.0.0.1 instead of a table")
    load.set_defaults(func=cmd_load)

    images = sub.add_parser("images", help="build the labs' images, or save/load them for a room without internet")
    images.add_argument("action", choices=["build", "save", "load"])
    images.add_argument("file", nargs="?", help="the archive, for save and load")
    images.set_defaults(func=cmd_images)

    soak = sub.add_parser("soak", help="run the whole test suite N times and report every failure")
    soak.add_argument("runs", type=int)
    soak.add_argument("--runtime", default=os.environ.get("RUNTIME", "auto"))
    soak.set_defaults(func=cmd_soak)

    exercise = sub.add_parser("exercise", help="check your version of a lab's exercise (make check-lab-N)")
    exercise.add_argument("lab")
    exercise.add_argument("--solution", action="store_true", help="check the reference solution instead")
    exercise.add_argument("--hint", type=int, choices=(1, 2), default=1, help="2: add the hints nearer the answer")
    exercise.add_argument("--runtime", default=os.environ.get("RUNTIME", "auto"), help=runtime_help)
    exercise.set_defaults(func=cmd_exercise)

    mutants = sub.add_parser("mutants", help="run each lab's tests on the wrong configs its lab.toml lists; "
                                            "every one must fail them")
    mutants.add_argument("labs", nargs="*", help="lab numbers (default: every lab)")
    mutants.add_argument("--runtime", default="local")
    mutants.set_defaults(func=cmd_mutants)

    bench = sub.add_parser("bench", help="time make lab-N, warm and cold, and the suite, in each runtime")
    bench.add_argument("--runtime", default=os.environ.get("RUNTIME", "auto"), help=runtime_help)
    bench.add_argument("--no-suite", action="store_true", help="leave out the suite's time")
    bench.add_argument("--no-load", action="store_true", help="leave out Locust's throughput")
    bench.add_argument("labs", nargs="*", help="lab numbers (default: every lab)")
    bench.set_defaults(func=cmd_bench)

    prepare = sub.add_parser("prepare-tests", help="install what `make test` needs, where that can be done")
    prepare.add_argument("--runtime", default=os.environ.get("RUNTIME", "auto"), help=runtime_help)
    prepare.set_defaults(func=cmd_prepare_tests)

    sub.add_parser("list", help="the labs").set_defaults(func=cmd_list)
    sub.add_parser("docs-assets", help="fetch what the docs site serves itself (mermaid), once"
                   ).set_defaults(func=cmd_docs_assets)
    sub.add_parser("doctor", help="what this machine has for each runtime, and how to get the rest"
                   ).set_defaults(func=cmd_doctor)

    check = sub.add_parser("check", help="ask the haproxy binary whether a lab's config is valid")
    check.add_argument("lab")
    check.set_defaults(func=cmd_check)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "action", None) in ("save", "load") and not getattr(args, "file", None):
        parser().error(f"images {args.action} needs a FILE")
    treat_kill_as_ctrl_c()
    try:
        return args.func(args)
    except LabkitError as error:
        print(f"labkit: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("\nInterrupted; what this command started has been stopped.", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
