"""Preparing pages in a forked helper process, in parallel with the caller's writes.

Reading ahead (ahead.py) overlaps the network with the caller's work, but parsing a results
page and preparing it are Python too: on a helper thread they hold the GIL, and the caller's
database calls, which release it, then wait for it at every return. A `PageProcess` is a copy
of this process (`os.fork`, so it has the caller's `prepare` as it stood) that does that work
on another core and hands back each answer pickled, to be unpickled in the caller's thread.

1. The copy never touches the database, sockets or Django's connections, and leaves through
   `os._exit`, so nothing the parent holds is closed, flushed or finalised twice. What it runs
   (`work`) must be a pure function of the bytes it is given.
2. It dies with its parent: Linux kills it when the thread that forked it ends (PDEATHSIG),
   and everywhere it stops at the end of its input, which a dead parent closes.
3. An error raised by `work` is pickled back and raised again by `load` in the caller's thread,
   the same type with the same message (plus the child's traceback as a note); an error that
   cannot be pickled comes back as `PageProcessFailed` naming its type and message. A child
   that dies or stops answering is `PageProcessFailed` too, never a hang.
4. `PageProcess.start` returns None where no process can be forked (no `os.fork`, or the
   fork failed: logged); the caller then does the work in its own process, as before.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import pickle
import select
import signal
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)
HEADER = struct.Struct(">Q")  # every message: its length, then its bytes
PR_SET_PDEATHSIG = 1
# An answer slower than this means the child is stuck: a page takes well under a second.
# Below the default claim expiry (120 s), as the first page is waited for without heartbeats.
ANSWER_TIMEOUT = 100.0
# How long `close` waits for the child to leave on its own before killing it.
EXIT_GRACE = 5.0


class PageProcessFailed(RuntimeError):
    """The helper process died, stopped answering, or raised an error that cannot be pickled."""


class PageProcess:
    """A forked helper that answers `run(payload)` with `pickle.dumps(work(payload))`."""

    def __init__(self, work: Callable[[bytes], Any], *, name: str = "pages") -> None:
        self.name = name
        self._lock = threading.Lock()  # one request at a time, from whichever thread
        requests_out, requests_in = os.pipe()
        answers_out, answers_in = os.pipe()
        parent = os.getpid()
        # PDEATHSIG follows the forking *thread*: only the main thread lives as long as we do.
        tie = threading.current_thread() is threading.main_thread()
        try:
            self.pid = os.fork()
        except OSError:  # no memory or processes left: nothing was started
            for fd in (requests_out, requests_in, answers_out, answers_in):
                os.close(fd)
            raise
        if self.pid == 0:  # the child: never returns into the caller's code
            code = 1
            try:
                os.close(requests_in)
                os.close(answers_out)
                _child_setup(parent, tie)
                code = _serve(work, requests_out, answers_in)
            finally:
                os._exit(code)
        os.close(requests_out)
        os.close(answers_in)
        self._to_child, self._from_child = requests_in, answers_out
        self.closed = False

    @classmethod
    def start(cls, work: Callable[[bytes], Any], *, name: str) -> PageProcess | None:
        """A helper, or None (logged) where none can be forked: the caller then does the work
        in its own process, as it would without one."""
        if not hasattr(os, "fork"):
            return None
        try:
            return cls(work, name=name)
        except OSError as error:
            logger.warning("could not fork the %s process (%s); doing its work in-process",
                           name, error)
            return None

    def run(self, payload: bytes) -> bytes:
        """Send `payload`, wait for the answer (any thread; the GIL is free while waiting)."""
        with self._lock:
            if self.closed:
                raise PageProcessFailed(f"the {self.name} process is closed")
            try:
                _send(self._to_child, payload)
                return _receive(self._from_child, ANSWER_TIMEOUT)
            except (OSError, EOFError, TimeoutError) as error:
                status = self._stop()
                raise PageProcessFailed(f"the {self.name} process (pid {self.pid}) {status} "
                                        f"before answering ({error})") from error

    @staticmethod
    def load(answer: bytes) -> Any:
        """The value an answer carries, or its error raised (in the caller's thread)."""
        # Unpickling a page makes tens of thousands of containers; left on, the collector
        # would run through them many times over while they are made (twice the time).
        collecting = gc.isenabled()
        gc.disable()
        try:
            ok, value = pickle.loads(answer)  # noqa: S301 - our own child's bytes, by a pipe
        finally:
            if collecting:
                gc.enable()
        if ok:
            return value
        kind, args, state = value
        # The error as it was, without calling its constructor (which may take other arguments
        # than those `args` holds, as SalesforceRejected does).
        error = kind.__new__(kind, *args)
        error.args = args
        error.__dict__.update(state)
        raise error

    def close(self) -> None:
        """End the child: it leaves at the end of its input; one that does not is killed."""
        with self._lock:
            if not self.closed:
                self._stop()

    def _stop(self) -> str:
        """Close the pipes, reap the child; how it ended, in words."""
        self.closed = True
        for fd in (self._to_child, self._from_child):
            try:
                os.close(fd)
            except OSError:
                logger.debug("fd %s of the %s process was already closed", fd, self.name)
        deadline = time.monotonic() + EXIT_GRACE
        while True:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return _ended(status)
            if time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                _, status = os.waitpid(self.pid, 0)
                return "did not stop and was killed"
            time.sleep(0.01)

    def __enter__(self) -> PageProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _ended(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"was killed by signal {os.WTERMSIG(status)}"
    return f"exited with status {os.waitstatus_to_exitcode(status)}"


def _child_setup(parent: int, tie: bool) -> None:
    # What the child inherited is never collected here: the collector then neither spends
    # time on it nor writes to (and so copies) the parent's pages.
    gc.freeze()
    # The parent's handlers (a worker's SIGTERM → shutdown flag) are not the child's business.
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(number, signal.SIG_DFL)
    if tie and sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the tie was made
        os._exit(0)


def _serve(work: Callable[[bytes], Any], requests: int, answers: int) -> int:
    """The child's loop: answer each request until the parent closes its end."""
    while True:
        try:
            payload = _receive(requests, None)
        except EOFError:
            return 0
        try:
            answer = pickle.dumps((True, work(payload)), protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as error:  # noqa: BLE001 - handed to the parent, which raises it
            answer = _error_answer(error)
        try:
            _send(answers, answer)
        except BrokenPipeError:  # the parent is gone
            return 0


def _error_answer(error: Exception) -> bytes:
    """The error's type, args and attributes (its traceback added as a note), pickled; one
    that cannot be pickled (a local class, an attribute holding a socket) as PageProcessFailed."""
    where = "".join(traceback.format_exception(error))
    try:
        state = {**error.__dict__, "__notes__": [*getattr(error, "__notes__", ()),
                                                 f"raised in the helper process:\n{where}"]}
        answer = pickle.dumps((False, (type(error), error.args, state)),
                              protocol=pickle.HIGHEST_PROTOCOL)
        pickle.loads(answer)  # noqa: S301 - proves the parent can load it
    except Exception:  # noqa: BLE001 - replaced by a plain error saying what it was
        text = f"{type(error).__module__}.{type(error).__qualname__}: {error}\n{where}"
        answer = pickle.dumps((False, (PageProcessFailed, (text,), {})))
    return answer


def _send(fd: int, payload: bytes) -> None:
    view = memoryview(HEADER.pack(len(payload)) + payload)
    while view:
        view = view[os.write(fd, view):]


def _receive(fd: int, timeout: float | None) -> bytes:
    """One message; EOFError at the end of the input, TimeoutError if none comes in time."""
    size = HEADER.unpack(_read_exactly(fd, HEADER.size, timeout, at_start=True))[0]
    return _read_exactly(fd, size, timeout, at_start=False)


def _read_exactly(fd: int, size: int, timeout: float | None, *, at_start: bool) -> bytes:
    buffer = bytearray(size)
    view, got = memoryview(buffer), 0
    while got < size:
        if timeout is not None and not _readable(fd, timeout):
            raise TimeoutError(f"no answer in {timeout:g} s")
        chunk = os.readv(fd, [view[got:]])
        if chunk == 0:
            raise EOFError("end of input" if at_start and got == 0 else "cut off mid-message")
        got += chunk
    return bytes(buffer)


def _readable(fd: int, timeout: float) -> bool:
    poll = select.poll()  # not select(): it refuses descriptors above 1023
    poll.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
    return bool(poll.poll(timeout * 1000))
