"""The call's deadline, seen by every layer below the one that set it.

The deadline reads ``time.monotonic``; the bounds below leave seconds of slack, far more than a
loaded machine takes between two lines, so these tests do not depend on timing.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from autodocs.deadline import deadline_scope, remaining

SLACK_S = 5.0


def test_without_a_scope_remaining_is_the_default() -> None:
    assert remaining(7.5) == 7.5


def test_within_a_scope_remaining_counts_down_from_its_seconds() -> None:
    with deadline_scope(100.0):
        left = remaining(1.0)
    assert 100.0 - SLACK_S < left <= 100.0


def test_the_scope_yields_its_deadline_on_the_monotonic_clock() -> None:
    before = time.monotonic()
    with deadline_scope(100.0) as deadline:
        pass
    after = time.monotonic()
    assert before + 100.0 <= deadline <= after + 100.0


def test_remaining_is_zero_once_the_deadline_has_passed() -> None:
    with deadline_scope(-10.0):
        assert remaining(1.0) == 0.0


def test_remaining_is_zero_at_a_zero_second_deadline() -> None:
    with deadline_scope(0.0):
        assert remaining(1.0) == 0.0


def test_an_inner_scope_cannot_outlast_the_outer_deadline() -> None:
    with deadline_scope(10.0) as outer, deadline_scope(100.0) as inner:
        assert inner == outer
        assert remaining(1.0) <= 10.0


def test_an_inner_scope_may_end_sooner_than_the_outer_one() -> None:
    with deadline_scope(100.0), deadline_scope(10.0):
        assert 10.0 - SLACK_S < remaining(1.0) <= 10.0


def test_leaving_a_scope_restores_the_outer_deadline() -> None:
    with deadline_scope(100.0):
        with deadline_scope(10.0):
            pass
        assert remaining(1.0) > 100.0 - SLACK_S


def test_leaving_the_last_scope_restores_the_default() -> None:
    with deadline_scope(10.0):
        pass
    assert remaining(7.5) == 7.5


def test_an_error_leaving_the_scope_restores_the_deadline_and_propagates() -> None:
    with pytest.raises(LookupError), deadline_scope(10.0):
        raise LookupError
    assert remaining(7.5) == 7.5


async def test_each_task_sees_its_own_deadline() -> None:
    async def left_in(seconds: float) -> float:
        with deadline_scope(seconds):
            await asyncio.sleep(0)
            return remaining(0.0)

    short, long = await asyncio.gather(left_in(10.0), left_in(100.0))
    assert short <= 10.0
    assert long > 100.0 - SLACK_S
