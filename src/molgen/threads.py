"""How many CPU threads one molgen process computes with, chosen once when a command starts (``--threads``).

torch's default (one OpenMP thread per core, threads that spin while they wait) is fastest on a quiet machine
and worst on a busy one: every parallel region waits for its slowest thread, and a thread that shares its
core with another process is the slowest one. The policy:

- ``--threads N`` uses N threads;
- otherwise ``OMP_NUM_THREADS`` from the environment is kept (the user, or a launcher, chose);
- otherwise ``auto``: the cores this process may run on minus the work of other processes, at least 1 — all
  cores when the machine is quiet, one thread beside busy neighbours. Other work is the number of threads
  runnable when the command starts (the median of a few reads 10 ms apart), not the 1-minute load average,
  which lags a minute behind neighbours that just started and a minute past jobs that just ended.

While a command keeps its own worker processes busy beside its computation (``molgen predict`` featurizing
ahead of the model), :func:`beside_workers` lowers torch's threads by one per busy worker for that time, and
restores them as soon as the workers are done.

OpenMP's wait policy is left as it is: sleeping idle threads (``OMP_WAIT_POLICY=PASSIVE``) made the quiet demo
15–19 % slower (benchmarks/shared_machine.py), and with one thread there is no thread to wait. Processes that
already parallelize (featurization workers, serving workers, DataLoader workers) inherit the environment;
DataLoader workers use one thread each (torch's rule).
"""

from __future__ import annotations

import contextlib
import logging
import os
import statistics
import sys
import time
from collections.abc import Iterator, MutableMapping
from dataclasses import dataclass
from pathlib import Path

from molgen.errors import ConfigError

log = logging.getLogger("molgen")

__all__ = [
    "ThreadPlan",
    "TorchThreads",
    "apply_threads",
    "beside_workers",
    "choose_threads",
    "other_load",
    "parse_threads",
    "usable_cores",
]

THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
"""Environment variables that set the size of OpenMP / MKL thread pools (read when torch loads)."""


@dataclass(frozen=True)
class ThreadPlan:
    """``threads`` for this process and why (``reason``, one phrase for the log); ``automatic``: chosen by
    the ``auto`` rule, not by the user or the environment."""

    threads: int
    reason: str
    automatic: bool = False


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity; the core count where affinity is unknown)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def parse_threads(text: str) -> int | None:
    """``--threads`` value: a positive integer, or ``auto`` (None)."""
    if text == "auto":
        return None
    try:
        threads = int(text)
    except ValueError:
        threads = 0
    if threads < 1:
        raise ConfigError(f"--threads {text!r}: pass a positive number of threads or 'auto'")
    return threads


def choose_threads(
    requested: int | None, *, environ: MutableMapping[str, str] | None = None, load: float | None = None
) -> ThreadPlan:
    """The thread count for this process (see the module docstring for the order of the rules).

    Args:
        requested: ``--threads`` (None: not given, or ``auto``).
        environ: the environment (default ``os.environ``).
        load: runnable threads of other processes (default: :func:`other_load`).
    """
    environ = os.environ if environ is None else environ
    if requested is not None:
        return ThreadPlan(requested, f"--threads {requested}")
    preset = environ.get("OMP_NUM_THREADS", "")
    if preset.isdigit() and int(preset) > 0:
        return ThreadPlan(int(preset), f"OMP_NUM_THREADS={preset} in the environment")
    cores = usable_cores()
    if load is None:
        load = other_load()
    threads = max(1, min(cores, round(cores - load)))
    return ThreadPlan(threads, f"auto: {cores} usable cores, other work {load:.1f}", automatic=True)


def other_load(samples: int = 5, interval_s: float = 0.01) -> float:
    """Runnable threads other than this process's own, now: on Linux the median of ``samples`` reads of
    ``/proc/loadavg``'s runnable count, ``interval_s`` apart, minus this (single-threaded) process; elsewhere the
    1-minute load average; 0 where neither is known."""
    try:
        counts = []
        for i in range(samples):
            if i:
                time.sleep(interval_s)
            counts.append(int(Path("/proc/loadavg").read_text().split()[3].split("/")[0]) - 1)
        return float(statistics.median(counts))
    except (OSError, IndexError, ValueError):
        return os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0


def apply_threads(plan: ThreadPlan, *, environ: MutableMapping[str, str] | None = None) -> None:
    """Sets the thread pools of this process (and of the processes it starts) to ``plan.threads``.

    Sets ``OMP_NUM_THREADS``/``MKL_NUM_THREADS`` (read when torch loads) and, when torch is already loaded,
    ``torch.set_num_threads``.
    """
    environ = os.environ if environ is None else environ
    for name in THREAD_VARIABLES:
        environ[name] = str(plan.threads)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(plan.threads)
    if plan.automatic and plan.threads < usable_cores():  # fewer than torch's default: say why
        log.info("computing with %d CPU thread(s) (%s)", plan.threads, plan.reason)


class TorchThreads:
    """torch's thread count inside :func:`beside_workers`: ``threads`` now, ``before`` the block."""

    def __init__(self, before: int, threads: int) -> None:
        self.before, self.threads = before, threads

    def restore(self) -> None:
        """Back to ``before`` threads (the workers are done before the block ends)."""
        if self.threads != self.before:
            import torch

            torch.set_num_threads(self.before)
            self.threads = self.before


@contextlib.contextmanager
def beside_workers(workers: int) -> Iterator[TorchThreads]:
    """torch computes with ``workers`` fewer threads (at least 1) inside the block, while that many worker
    processes of this command are busy on the same cores; the yielded :class:`TorchThreads` restores torch's
    thread count early (:meth:`TorchThreads.restore`) when the workers are done, and the end of the block always.
    """
    import torch

    before = torch.get_num_threads()
    threads = TorchThreads(before, max(1, before - workers))
    torch.set_num_threads(threads.threads)
    try:
        yield threads
    finally:
        threads.restore()
