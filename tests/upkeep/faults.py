"""Tools of the fault tests: a TCP proxy the test can cut (a broker restart, a database
refusing connections), a RabbitMQ virtual host of the test's own, and ``otklik``
subprocesses (workers, imports) started and killed like on a host."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

RABBIT = ("127.0.0.1", 5672)


def rabbitmq_available() -> bool:
    try:
        with socket.create_connection(RABBIT, timeout=2):
            pass
    except OSError:
        return False
    return subprocess.run(["rabbitmqctl", "-q", "list_vhosts"], capture_output=True,
                          timeout=60).returncode == 0


@contextmanager
def rabbitmq_vhost() -> Iterator[str]:
    """A virtual host of this test's own (its queues are nobody else's), removed after."""
    name = f"otklik_test_{uuid.uuid4().hex[:10]}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", name], check=True, capture_output=True)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", name, "guest", ".*", ".*",
                    ".*"], check=True, capture_output=True)
    try:
        yield name
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], capture_output=True)


class Proxy:
    """A TCP proxy from a free local port to ``target``; ``cut()`` drops every connection
    and refuses new ones (connections are accepted and closed at once) until
    ``restore()``."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(128)
        self.port = self.server.getsockname()[1]
        self.down = threading.Event()
        self.stopped = threading.Event()
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if self.down.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.pairs.append((client, upstream))
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    def _pipe(self, a: socket.socket, b: socket.socket) -> None:
        sockets = [a, b]
        try:
            while not self.stopped.is_set():
                readable, _, _ = select.select(sockets, [], [], 0.5)
                for s in readable:
                    data = s.recv(65536)
                    if not data:
                        return
                    (b if s is a else a).sendall(data)
        except OSError:
            return
        finally:
            for s in sockets:
                try:
                    s.close()
                except OSError:
                    pass

    def cut(self) -> None:
        self.down.set()
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            for s in pair:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass

    def restore(self) -> None:
        self.down.clear()

    def close(self) -> None:
        self.stopped.set()
        self.cut()
        self.server.close()


def otklik(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``otklik …`` as a process of its own (own process group, so a kill takes its
    children too)."""
    handle = log.open("ab")
    return subprocess.Popen([sys.executable, "-m", "otklik.cli", *args], env=env,
                            stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)


def kill(process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    """Kill a process and its children (its process group)."""
    try:
        os.killpg(process.pid, sig)
    except ProcessLookupError:
        pass
    process.wait(timeout=60)


def wait_for(condition: Callable[[], Any], timeout: float, what: str,
             every: float = 0.2) -> Any:
    """Poll ``condition`` until it is truthy (its value is returned) or fail saying what."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(every)
