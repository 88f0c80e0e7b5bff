"""Serving the app with waitress: in this process, or in several worker processes that share one listening socket.

One Python process runs Python code on one core at a time, so `hilum serve --workers N` forks N processes that
accept connections on the socket the supervisor (this process) bound. Each worker builds its own app (database
connections, blob packs and the in-process job runner are per process; jobs are claimed in the database, so a
job is run once whichever process dispatches it, and one left behind by a dead worker is recovered by the
others' sweepers). The supervisor restarts a worker that dies, gives up on one that keeps dying at start, and
on SIGTERM or SIGINT stops them all.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask

log = logging.getLogger("hilum.serve")

RESTART_WINDOW = 60.0  # seconds: a worker that died this many times within it ...
RESTART_LIMIT = 5  # ... is a crash loop (a broken config, a port problem), not bad luck: stop
STOP_GRACE = 10.0  # seconds the workers get to finish after SIGTERM before SIGKILL


def serve(app: Flask, *, threads: int, **where: Any) -> None:
    """Serve `app` in this process until interrupted, on `host=..., port=...` or on already listening
    `sockets=[...]` (a worker process of `serve_workers`)."""
    from waitress import serve as waitress_serve

    from server import jobs
    from server.scheduling import Dispatcher

    jobs.start_background(app)
    dispatcher = Dispatcher(threads)
    try:
        waitress_serve(
            app,
            threads=threads,
            max_request_body_size=app.config["MAX_UPLOAD_BYTES"],
            _dispatcher=dispatcher,
            **where,
        )
    finally:
        dispatcher.stop_growing()


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port (IPv4 or IPv6, as `host` resolves)."""
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    return socket.create_server((host, port), family=family, backlog=1024)


def serve_workers(make_app: Callable[[], Flask], sock: socket.socket, *, workers: int, threads: int) -> int:
    """Run `workers` processes serving `make_app()` on `sock` until SIGTERM/SIGINT; the exit status."""
    supervisor = _Supervisor(make_app, sock, threads)
    return supervisor.run(workers)


class _Supervisor:
    def __init__(self, make_app: Callable[[], Flask], sock: socket.socket, threads: int):
        self.make_app = make_app
        self.sock = sock
        self.threads = threads
        self.children: dict[int, int] = {}  # pid → worker slot
        self.deaths: dict[int, list[float]] = {}  # slot → when its workers died
        self.stopping = False

    def run(self, workers: int) -> int:
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        status = 0
        try:
            for slot in range(workers):
                self._spawn(slot)
            while self.children and not self.stopping:
                pid, code = os.waitpid(-1, os.WNOHANG)
                if not pid:
                    time.sleep(0.2)
                    continue
                if pid in self.children:
                    slot = self.children.pop(pid)
                    status = status if self.stopping else self._restart(slot, pid, code)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._terminate()
        return status

    def _restart(self, slot: int, pid: int, code: int) -> int:
        now = time.monotonic()
        recent = [t for t in self.deaths.get(slot, []) if now - t < RESTART_WINDOW] + [now]
        self.deaths[slot] = recent
        log.warning("worker %d (pid %d) exited with %s", slot, pid, _describe(code))
        if len(recent) >= RESTART_LIMIT:
            log.error("worker %d died %d times within %.0f s; stopping", slot, len(recent), RESTART_WINDOW)
            self._stop(signal.SIGTERM, None)
            return 1
        time.sleep(min(2.0, 0.1 * 2 ** len(recent)))
        self._spawn(slot)
        return 0

    def _spawn(self, slot: int) -> None:
        stops = {signal.SIGTERM, signal.SIGINT}
        signal.pthread_sigmask(signal.SIG_BLOCK, stops)  # no stop signal between fork and knowing the pid
        pid = os.fork()
        if pid:
            self.children[pid] = slot
            signal.pthread_sigmask(signal.SIG_UNBLOCK, stops)
            return
        code = 1
        try:  # the worker: never returns into the supervisor's code
            for sig in stops:
                signal.signal(sig, _exit_quietly)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, stops)
            _exit_with(os.getppid())
            app = self.make_app()
            serve(app, threads=self.threads, sockets=[self.sock])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 0
        except BaseException:  # noqa: BLE001 - report and leave; the supervisor decides what next
            log.exception("worker %d failed", slot)
        finally:
            logging.shutdown()
            os._exit(code)

    def _stop(self, _sig: int, _frame: Any) -> None:
        self.stopping = True  # the loop in `run` ends; `_terminate` stops the workers

    def _terminate(self) -> None:
        """Stop whatever workers are left: SIGTERM, then SIGKILL after the grace period."""
        deadline = time.monotonic() + STOP_GRACE
        for pid in list(self.children):
            _signal(pid, signal.SIGTERM)
        while self.children and time.monotonic() < deadline:
            for pid in list(self.children):
                if _reaped(pid):
                    self.children.pop(pid)
            time.sleep(0.05)
        for pid in list(self.children):
            _signal(pid, signal.SIGKILL)
            _reaped(pid, block=True)
            self.children.pop(pid)


def _exit_with(supervisor: int) -> None:
    """Stop this worker when its supervisor is gone (killed with SIGKILL, it could not stop the workers)."""

    def watch() -> None:
        while os.getppid() == supervisor:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="hilum-supervisor-watch", daemon=True).start()


def _exit_quietly(_sig: int, _frame: Any) -> None:
    raise SystemExit(0)  # waitress closes its sockets and returns from serve()


def _reaped(pid: int, block: bool = False) -> bool:
    """Collect child `pid` if it has exited (waiting for it when `block`); True once it is gone."""
    try:
        return os.waitpid(pid, 0 if block else os.WNOHANG)[0] != 0
    except ChildProcessError:  # already collected
        return True


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _describe(code: int) -> str:
    if os.WIFSIGNALED(code):
        return f"signal {os.WTERMSIG(code)}"
    return f"status {os.waitstatus_to_exitcode(code)}"
