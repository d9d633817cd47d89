import faulthandler
import signal


class LabkitError(Exception):
    """A problem the learner can act on: the message says what happened and what to do next."""

    exit_code = 1


class SettingError(LabkitError):
    """A setting the learner gave (a LAB<N>_* variable, say) that cannot work: exit code 2,
    as for a mistyped command."""

    exit_code = 2


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def treat_kill_as_ctrl_c() -> None:
    """Closing the terminal or `kill` ends a command, or a test run, the way Ctrl-C does:
    what it started is stopped first. (Python's default for SIGTERM ends it on the spot.)"""
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    # `kill -USR1` of a command that seems stuck prints where each of its threads is.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
