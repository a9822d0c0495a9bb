"""A short fuzzing run per input family, part of the normal suite (issue 11).

A few dozen inputs per family (KMODLINT_FUZZ_EXAMPLES sets another count for all); the
long run by hand is `python -m tests.fuzz --long --minutes N`.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings

from tests.fuzz.families import FAMILIES, Family, run_one

pytestmark = [pytest.mark.fuzz, pytest.mark.usefixtures("default_recursion_limit")]


def _examples(family: Family) -> int:
    override = os.environ.get("KMODLINT_FUZZ_EXAMPLES")
    return int(override) if override else family.examples


@pytest.fixture(autouse=True)
def private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KMODLINT_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("KMODLINT_DEBUG", raising=False)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_fuzzed_inputs_cost_one_line_never_the_run(name: str) -> None:
    family = FAMILIES[name]

    @settings(
        max_examples=_examples(family),
        deadline=None,  # run_one bounds each input (TIME_LIMIT), whatever the machine
        database=None,
        suppress_health_check=list(HealthCheck),
        derandomize=os.environ.get("KMODLINT_FUZZ_RANDOM") is None,
    )
    @given(family.inputs)
    def fuzz(case: object) -> None:
        run_one(family, case)

    fuzz()
