import faulthandler
import signal
import threading
from contextlib import contextmanager


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


@contextmanager
def interrupts_held():
    """A Ctrl-C (or a kill, treated as one) that arrives inside the block is delivered once
    the block has ended. Around the start of a child process: interrupted inside Popen, Python
    loses the child, which then runs on, unseen by whatever cleans up. Only the main thread
    can change how signals are handled; elsewhere the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held, previous = [], {}
    try:
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            previous[number] = signal.signal(number, lambda signum, frame: held.append(signum))
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        if held:  # now to the handler it was meant for, which may raise or ignore it
            signal.raise_signal(held[0])
