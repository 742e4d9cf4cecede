"""The thread policy: --threads, an OMP_NUM_THREADS already set, and auto from free cores."""

from __future__ import annotations

import pytest
import torch

from molgen.errors import ConfigError
from molgen.threads import apply_threads, choose_threads, other_load, parse_threads, usable_cores


def test_parse_threads_accepts_a_positive_count_or_auto_and_names_a_bad_value():
    assert parse_threads("3") == 3 and parse_threads("auto") is None
    for bad in ("0", "-1", "two"):
        with pytest.raises(ConfigError, match=f"--threads '{bad}'"):
            parse_threads(bad)


def test_an_explicit_count_wins_over_the_environment():
    plan = choose_threads(4, environ={"OMP_NUM_THREADS": "1"}, load=0.0)
    assert (plan.threads, plan.automatic) == (4, False)


def test_an_omp_num_threads_in_the_environment_is_kept():
    plan = choose_threads(None, environ={"OMP_NUM_THREADS": "1"}, load=0.0)
    assert plan.threads == 1 and "OMP_NUM_THREADS=1" in plan.reason


@pytest.mark.parametrize(
    ("load", "free"),
    [(0.0, lambda cores: cores), (1e6, lambda cores: 1), (1.0, lambda cores: max(1, cores - 1))],
)
def test_auto_uses_the_cores_not_busy_with_other_work(load, free):
    plan = choose_threads(None, environ={}, load=load)
    assert plan.automatic and plan.threads == free(usable_cores())


def test_apply_sets_the_pools_of_this_process_and_of_its_children():
    environ: dict[str, str] = {}
    before = torch.get_num_threads()
    try:
        apply_threads(choose_threads(1, environ=environ), environ=environ)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)
    assert environ == {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def test_other_load_is_a_non_negative_number_of_processes():
    assert other_load() >= 0.0
