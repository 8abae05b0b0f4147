"""Worker processes for CPU-bound work, each keeping its own state between the calls it runs.

Why processes: parsing and scoring a workbook is pure Python and holds the GIL, so threads run
one workbook at a time (with 4 or 8 threads, 200 small workbooks ran 1.10x and 1.25x *slower*
than with one). Separate processes use every core.

Why one process per slot, each with its own pipe: a caller can send a later call to the
process that ran an earlier one (`call(slot, ...)`), whose module state still holds what that
call left there (a workbook still open for its second write). Each slot is fed by one thread
of the parent (`for_each`), so a slot runs one call at a time and a free slot takes the next
item at once. The pipe, not the process's exit status, tells the parent that a worker died:
its end closes only when the worker's process ends, whereas the exit status comes through the
fork server, and a fork server killed made every worker it started look dead while they
finished their workbooks (with `concurrent.futures.ProcessPoolExecutor`, used before).

Why `forkserver` (or `spawn` where there is none): forking the parent itself would copy its
threads' locks (logging, the signal watcher, the progress bar) in whatever state they are. A
fork server is started once per parent process, imports `preload` once, and forks each worker
from that clean state in milliseconds. Since that server was started with the environment and
working directory of its time, each worker takes the parent's current ones when it starts.

What the parent keeps: signals and logging. Workers ignore SIGINT and SIGTERM (the parent asks
for a stop by not handing out more work, as with threads, so a write is never cut in half; the
fork server ignores them too, see `fork_server.py`), and
send their log records to the parent, which logs them through its own loggers and handlers (the
same stream, format and redaction); `tag` names the current item on each record
(`workbook=...`). Secrets the parent registered are redacted in the workers too.

A worker that dies (a crash, the OOM killer, SIGKILL) fails only the call it was running,
with `WorkerDied`, which says whether it had taken the call: if it had, the call may have done
its work before the end, and its outcome is not known. The slot starts a new process for its
next call; a call a dead idle process never took goes to a new one. A worker whose parent
dies (SIGKILL) ends at once rather than wait for work forever.

Example:
    with WorkerProcesses(2, setup, (job,), preload=["sheetsync.workers"]) as pool:
        results = pool.for_each(items, lambda slot, item: pool.call(slot, work, item))
"""

from __future__ import annotations

import contextlib
import copy
import gc
import logging
import logging.handlers
import os
import pickle
import signal
import sys
import threading
import traceback
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from sheetsync.ops.logsetup import RedactingFilter, register_secret, registered_secrets

# multiprocessing is imported when workers start: every run imports this
# module (WorkerDied, tag), and a run in one process needs neither.
if TYPE_CHECKING:
    import multiprocessing.process
    from multiprocessing.context import BaseContext

T = TypeVar("T")
R = TypeVar("R")

log = logging.getLogger(__name__)

# Every worker runs the parent's main module again (`python -m sheetsync.cli` as `__mp_main__`),
# which the fork server imported on purpose so that its imports are already there; runpy warns
# that the module was imported first. Workers inherit this filter from the fork server.
warnings.filterwarnings(
    "ignore", r"'[\w.]+' found in sys\.modules after import of package", RuntimeWarning
)


class WorkerDied(Exception):
    """The worker process stopped (crashed or was killed) before it answered the call.

    `started`: whether it had taken the call. If it had, the call may have done some or all
    of its work (a workbook written) before the end: its outcome is not known.
    """

    def __init__(self, message: str, *, started: bool) -> None:
        super().__init__(message)
        self.started = started


DIED = (
    "its worker process stopped while it was at work (it crashed or was killed): "
    "it is not known whether it finished"
)
NOT_STARTED = "its worker process stopped before it started (it crashed or was killed)"


def worker_context() -> BaseContext:
    """`forkserver` where the platform has it (Linux, macOS), else `spawn` (Windows)."""
    import multiprocessing

    if "forkserver" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


def start_fork_server(preload: Sequence[str]) -> None:
    """Start the fork server now, importing `preload`, without waiting for it: its imports run
    beside this process's work until `WorkerProcesses` asks it for workers (with the same
    `preload`). Does nothing where there is no fork server (`spawn`)."""
    context = worker_context()
    if context.get_start_method() != "forkserver":
        return
    from multiprocessing import forkserver

    _preload(context, preload)
    forkserver.ensure_running()


def _preload(context: BaseContext, preload: Sequence[str]) -> None:
    modules = ["sheetsync.ops.fork_server", __name__, *_main_module(), *preload]
    context.set_forkserver_preload(modules)  # type: ignore[attr-defined]


class WorkerProcesses:
    """`count` worker processes; call `setup(*setup_args)` in each as it starts.

    `setup_args` are pickled into each worker when it starts, so objects that may only cross
    at a process's start (a shared-memory rate limiter, a lock) can be among them.
    """

    def __init__(
        self,
        count: int,
        setup: Callable[..., None],
        setup_args: Sequence[Any] = (),
        *,
        preload: Sequence[str] = (),
        context: BaseContext | None = None,
    ) -> None:
        if count < 1:
            raise ValueError(f"count must be at least 1, not {count!r}")
        self._context = context or worker_context()
        if self._context.get_start_method() == "forkserver":
            _preload(self._context, preload)
        self._log_queue: Any = self._context.Queue()
        self._listener = logging.handlers.QueueListener(self._log_queue, _LocalLoggers())
        self._listener.start()
        self._start_args = (
            self._log_queue,
            _levels(),
            registered_secrets(),
            dict(os.environ),
            os.getcwd(),
            setup,
            tuple(setup_args),
        )
        self._slots: list[_Worker | None] = [None] * count
        self._ended: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False

    @property
    def count(self) -> int:
        return len(self._slots)

    def __enter__(self) -> WorkerProcesses:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, slot: int, fn: Callable[..., R], *args: Any) -> R:
        """`fn(*args)` in the process of `slot` (started now if it has none or it died): its
        result, or the exception it raised.

        Raises `WorkerDied` when the process stopped before answering (`started` says whether
        it had taken the call). `fn` and `args` are pickled, so `fn` must be a module-level
        function. A slot runs one call at a time; calls to different slots run at once.
        """
        for attempt in (1, 2):
            worker = self._worker(slot)
            try:
                return worker.call(fn, args)
            except WorkerDied as died:
                self._replace(slot, worker)
                # A process that died while idle (the OOM killer, a kill by hand) ran nothing
                # of this call: it goes to a new process, once.
                if died.started or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def _worker(self, slot: int) -> _Worker:
        """The slot's process, a new one when it has none."""
        with self._lock:
            if self._closed:
                raise RuntimeError("the worker processes were closed")
            worker = self._slots[slot]
            if worker is None:
                worker = self._slots[slot] = _Worker(self._context, self._start_args)
            return worker

    def _replace(self, slot: int, worker: _Worker) -> None:
        """The slot's next call starts a new process (the dead one is cleaned up in `close`)."""
        with self._lock:
            if self._slots[slot] is worker:
                self._slots[slot] = None
                self._ended.append(worker)

    def for_each(
        self,
        items: Iterable[T],
        work: Callable[[int, T], R],
        *,
        slot_of: Callable[[T], int] | None = None,
    ) -> list[R]:
        """`work(slot, item)` for every item, the results in the items' order.

        Each slot takes the next item when it is free, or with `slot_of` only the items that
        name it (in their order). Runs in one parent thread per slot; `work` usually calls
        that slot and waits for the answer. An exception `work` raises (KeyboardInterrupt
        included) stops handing out items and is raised here once the others are done.
        """
        numbered = list(enumerate(items))
        if slot_of is None:  # one queue shared by every slot
            queues = [numbered] * min(len(self._slots), len(numbered))
        else:
            queues = [[] for _ in self._slots]
            for index, item in numbered:
                queues[slot_of(item)].append((index, item))
        results: dict[int, R] = {}
        failures: list[BaseException] = []
        taking = threading.Lock()

        def feed(slot: int, queue: list[tuple[int, T]]) -> None:
            while True:
                with taking:
                    if not queue or failures:
                        return
                    index, item = queue.pop(0)
                try:
                    results[index] = work(slot, item)
                except BaseException as exc:  # raised in the caller's thread below
                    with taking:
                        failures.append(exc)
                    return

        threads = [
            threading.Thread(target=feed, args=(slot, queue), name=f"worker-{slot}", daemon=True)
            for slot, queue in enumerate(queues)
            if queue
        ]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                thread.join()
        except BaseException as exc:  # Ctrl-C: hand out nothing more, let the caller close
            with taking:
                failures.append(exc)
            raise
        if failures:
            raise failures[0]
        return [results[i] for i in sorted(results)]

    def each_process(self, fn: Callable[[], object]) -> None:
        """Run `fn()` once in every worker process now running (after what each is doing);
        one that died meanwhile is skipped."""

        with self._lock:
            running = [w for w in self._slots if w is not None]
        for worker in running:
            try:
                worker.call(fn, ())
            except WorkerDied:
                continue

    def close(self) -> None:
        """Let the workers finish what they run, stop them, then pass on their last log lines."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            workers = [w for w in self._slots if w is not None] + self._ended
            self._slots, self._ended = [None] * len(self._slots), []
        for worker in workers:  # all asked at once, so they end side by side
            worker.ask_to_stop()
        for worker in workers:
            worker.wait_stopped()
        self._listener.stop()
        self._log_queue.close()
        self._log_queue.join_thread()


_STARTED = "started"
"""A worker's first answer to a call: it took the call (an end after it leaves the outcome
unknown; an end before it means nothing of the call ran)."""

_STOP_SECONDS = 30.0
"""How long `close` waits for an idle worker to end once asked, before killing it."""


class _Worker:
    """One worker process and the pipe its calls and answers go through.

    The parent learns that a worker died from that pipe's end, which only the worker's own
    end closing can cause: not from the process's exit status, which comes through the fork
    server (a fork server killed makes every worker it started look dead while they work on).
    An answer the worker sent before it died is still read.
    """

    def __init__(self, context: BaseContext, start_args: tuple[Any, ...]) -> None:
        mine, theirs = context.Pipe()
        self.process = context.Process(  # type: ignore[attr-defined]
            target=_serve, args=(theirs, *start_args), name="sheetsync-worker", daemon=True
        )
        self.process.start()
        theirs.close()
        self.connection = mine
        self._busy = threading.Lock()

    def call(self, fn: Callable[..., R], args: Sequence[Any]) -> R:
        with self._busy:
            try:
                self.connection.send((fn, tuple(args)))
                taken = self.connection.recv()
            except (EOFError, OSError):  # OSError: the pipe broke as the process ended
                raise WorkerDied(NOT_STARTED, started=False) from None
            assert taken == _STARTED, taken
            try:
                ok, answer = self.connection.recv()
            except (EOFError, OSError):
                raise WorkerDied(DIED, started=True) from None
        if ok:
            return answer  # type: ignore[no-any-return]
        raise answer

    def ask_to_stop(self) -> None:
        """Ask the worker to end after its call in hand (waiting for that call)."""
        self._busy.acquire()
        with contextlib.suppress(OSError):  # it is gone already
            self.connection.send(None)

    def wait_stopped(self) -> None:
        """Wait for the worker asked to stop to end; kill it if it does not."""
        try:
            # The pipe ends when the process does (also when the fork server is gone).
            if self.connection.poll(_STOP_SECONDS):
                self.connection.recv()
        except (EOFError, OSError):
            pass
        finally:
            self.connection.close()
            self._busy.release()
        self.process.join(_STOP_SECONDS)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


class _Failed:
    """An exception raised in a worker, as it crosses back: the exception when it can be
    pickled, else a RuntimeError with its text; the worker's traceback as its cause."""

    def __init__(self, exc: BaseException) -> None:
        self.text = "".join(traceback.format_exception(exc))
        try:
            pickle.dumps(exc)
            self.exc: BaseException = exc
        except Exception:
            self.exc = RuntimeError(f"{type(exc).__name__}: {exc}")

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuild, (self.exc, self.text)


class RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker process (as its `__cause__`)."""

    def __str__(self) -> str:
        return f'\n"""\n{self.args[0]}"""'


def _rebuild(exc: BaseException, text: str) -> BaseException:
    exc.__cause__ = RemoteTraceback(text)
    return exc


def _serve(connection: Any, *start_args: Any) -> None:
    """A worker process: start, then answer calls until the parent says stop or is gone."""
    _start_worker(*start_args)
    try:
        while (message := connection.recv()) is not None:
            fn, args = message
            connection.send(_STARTED)
            try:
                answer: tuple[bool, Any] = (True, fn(*args))
            except BaseException as exc:
                answer = (False, _Failed(exc))
            try:
                connection.send(answer)
            except (pickle.PicklingError, TypeError, AttributeError) as exc:  # not picklable
                connection.send((False, _Failed(exc)))
    except (EOFError, OSError):  # the parent is gone
        return


def _main_module() -> list[str]:
    """The parent's main module, which multiprocessing imports again in every worker: a
    script's path (`"__main__"`) or the module `python -m` ran, imported once in the fork
    server so that each worker finds what it imports already there."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name not in ("__main__", "__mp_main__"):
        return [spec.name]
    return ["__main__"] if getattr(main, "__file__", None) else []


def _levels() -> dict[str, int]:
    """The parent's logging levels: the root's ("") and every logger given one."""
    levels = {"": logging.getLogger().level}
    for name, logger in logging.root.manager.loggerDict.items():
        if isinstance(logger, logging.Logger) and logger.level != logging.NOTSET:
            levels[name] = logger.level
    return levels


class _LocalLoggers(logging.Handler):
    """The parent's end of the log queue: each worker record goes through the parent's logger
    of the same name, so its handlers, formats and filters treat it like a local one."""

    def emit(self, record: logging.LogRecord) -> None:
        logging.getLogger(record.name).handle(record)


_tag: dict[str, str] = {}
"""`extra` fields put on every log record of this worker process (see `tag`)."""


def tag(**fields: str | None) -> None:
    """Name the item a worker is busy with on its log records (`tag(workbook="Sales")`); None
    removes a field. Does nothing outside a worker process."""
    for key, value in fields.items():
        if value is None:
            _tag.pop(key, None)
        else:
            _tag[key] = value


class _ToParent(logging.handlers.QueueHandler):
    """Sends a worker's records to the parent: tagged, redacted (the `RedactingFilter` added
    in `_start_worker`), with the message and traceback as text so they can be pickled."""

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        record = copy.copy(record)
        for key, value in _tag.items():
            if not hasattr(record, key):
                setattr(record, key, value)
        record.msg, record.args = record.getMessage(), None
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        return record


def _exit_with(parent: multiprocessing.process.BaseProcess) -> None:
    """End this worker when the parent is gone (killed with SIGKILL, by the OOM killer): it
    would otherwise wait for work forever, and keep the fork server alive with it."""
    import multiprocessing.connection

    multiprocessing.connection.wait([parent.sentinel])
    os._exit(1)


def _start_worker(
    log_queue: Any,
    levels: Mapping[str, int],
    secrets: Iterable[str],
    environ: Mapping[str, str],
    cwd: str,
    setup: Callable[..., None],
    setup_args: Sequence[Any],
) -> None:
    """A worker's first moments: the parent's signals policy, environment and logging."""
    import multiprocessing

    # What the fork server imported is kept for the worker's life: out of the collector's
    # sight, a collection no longer rescans it (about 23,000 objects) nor writes to (and so
    # copies) the pages the fork shared.
    gc.freeze()

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.environ.clear()
    os.environ.update(environ)
    os.chdir(cwd)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    to_parent = _ToParent(log_queue)
    to_parent.addFilter(RedactingFilter())
    root.addHandler(to_parent)
    for name, level in levels.items():
        logging.getLogger(name or None).setLevel(level)
    for secret in secrets:
        register_secret(secret)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent,), name="parent", daemon=True).start()
    try:
        setup(*setup_args)
    except BaseException:
        log.exception("a worker process could not start")
        raise
