"""Benchmark suites: datasets × models × seeds through the same ``fit()``, reported next to published results.

``load_suite`` reads a suite YAML (``benchmarks/*.yaml``), ``run_suite`` runs (or resumes) one profile,
``write_report`` writes results.md and the plot, ``check`` is the regression gate of ``--check``.
"""

from molgen.benchmarking.check import check, check_record
from molgen.benchmarking.report import summarize, write_report
from molgen.benchmarking.runner import load_results, run_suite
from molgen.benchmarking.suite import Suite, SuiteError, find_suite, load_suite

__all__ = [
    "Suite",
    "SuiteError",
    "check",
    "check_record",
    "find_suite",
    "load_results",
    "load_suite",
    "run_suite",
    "summarize",
    "write_report",
]
