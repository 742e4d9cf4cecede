"""A real ``molgen serve`` on a free loopback port, for the serving tests and the load benchmark."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

MOLGEN = str(Path(sys.executable).parent / "molgen")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "models_format1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``molgen serve *args`` started on a free port; ``url``, ``log()`` (its stderr so far), ``stop()``."""

    def __init__(self, *args: str, log_path: Path, ready_timeout: float = 300.0) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"}
        self._log = open(log_path, "wb")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(
            [MOLGEN, "serve", "--port", str(self.port), "--torch-threads", "1", *args],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        self.wait_ready(ready_timeout)

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"molgen serve exited ({self.process.returncode}):\n{self.log()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"molgen serve not ready after {timeout} s:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()
        return int(self.process.returncode)


@contextlib.contextmanager
def serve(*args: str, log_path: Path) -> Iterator[Server]:
    server = Server(*args, log_path=log_path)
    try:
        yield server
    finally:
        server.stop()
