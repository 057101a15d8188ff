"""``StopSignals``: the wait of ``local serve`` and ``local deploy --serve`` ends on every SIGTERM/Ctrl-C.

Each case runs in a fresh Python process, so the signal handlers are real and a deadlock shows as a timeout.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

PROGRAM = textwrap.dedent(
    """
    import signal, sys, threading
    from runway_ext.local.run_guard import StopSignals

    also = threading.Event()
    waiter = StopSignals(also=also).install()
    if sys.argv[1] == "while-the-event-lock-is-held":
        # A signal that lands while the main thread holds the event's lock (as it does inside Event.wait): a
        # handler calling also.set() would wait for that lock forever.
        with also._cond:
            signal.raise_signal(signal.SIGTERM)
    elif sys.argv[1] == "from-outside":
        print("ready", flush=True)
    elif sys.argv[1] == "event":
        threading.Timer(0.2, also.set).start()
    waiter.wait()
    print("stopped:", ",".join(waiter.received) or "event", flush=True)
    """
)


def run(mode: str, send: signal.Signals | None = None) -> subprocess.CompletedProcess[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", PROGRAM, mode], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        if send is not None:
            assert process.stdout is not None
            assert process.stdout.readline() == "ready\n"
            process.send_signal(send)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_a_signal_while_the_stop_events_lock_is_held_still_ends_the_wait() -> None:
    started = time.monotonic()
    done = run("while-the-event-lock-is-held")
    assert (done.returncode, done.stdout.strip()) == (0, "stopped: SIGTERM"), done.stderr
    assert time.monotonic() - started < 30


def test_sigterm_and_ctrl_c_from_outside_end_the_wait_and_say_which() -> None:
    for number, name in ((signal.SIGTERM, "SIGTERM"), (signal.SIGINT, "Ctrl-C")):
        done = run("from-outside", number)
        assert (done.returncode, done.stdout.strip()) == (0, f"stopped: {name}"), done.stderr


def test_the_event_set_from_another_thread_ends_the_wait() -> None:
    done = run("event")
    assert (done.returncode, done.stdout.strip()) == (0, "stopped: event"), done.stderr
