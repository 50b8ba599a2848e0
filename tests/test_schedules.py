"""Schedules against their formulas, by frequencies over many seeded draws."""

import math

import numpy as np
import pytest

from fairseq_aiw.schedules import Schedule, main_task_probability

AUX = ["ner", "parse", "amr"]
DRAWS = 20000


def frequencies(schedule: Schedule, t: float) -> dict:
    rng = np.random.default_rng(0)
    counts = {task: 0 for task in schedule.tasks}
    for _ in range(DRAWS):
        for task in schedule.draw(rng, t):
            counts[task] += 1
    return {task: n / DRAWS for task, n in counts.items()}


@pytest.mark.parametrize(
    "name, t, expected_main",
    [
        ("constant", 0.0, 0.5),
        ("constant", 7.0, 0.5),
        ("exponential", 0.0, 0.0),
        ("exponential", 2.0, 1 - math.exp(-1.0)),
        ("exponential", 10.0, 1 - math.exp(-5.0)),
        ("sigmoid", 0.0, 0.5),
        ("sigmoid", 4.0, 1 / (1 + math.exp(-2.0))),
    ],
)
def test_single_draw_schedules_follow_their_formula(name, t, expected_main):
    assert main_task_probability(name, t, 0.5) == pytest.approx(expected_main)
    freq = frequencies(Schedule(name, "mt", AUX, 0.5), t)
    tolerance = 4 * math.sqrt(0.25 / DRAWS)
    assert freq["mt"] == pytest.approx(expected_main, abs=tolerance)
    for task in AUX:
        assert freq[task] == pytest.approx((1 - expected_main) / 3, abs=tolerance)
    assert sum(freq.values()) == pytest.approx(1.0)


def test_uniform_gives_every_task_every_update():
    assert frequencies(Schedule("uniform", "mt", AUX, 0.5), 3.0) == {
        "mt": 1.0,
        "ner": 1.0,
        "parse": 1.0,
        "amr": 1.0,
    }


def test_biased_gives_main_and_one_uniform_aux():
    freq = frequencies(Schedule("biased", "mt", AUX, 0.5), 0.0)
    assert freq["mt"] == 1.0
    for task in AUX:
        assert freq[task] == pytest.approx(1 / 3, abs=4 * math.sqrt(2 / 9 / DRAWS))
    rng = np.random.default_rng(1)
    assert all(
        len(Schedule("biased", "mt", AUX, 0.5).draw(rng, 0)) == 2 for _ in range(50)
    )


def test_main_only_ignores_aux_tasks():
    schedule = Schedule("main_only", "mt", AUX, 0.5)
    assert schedule.tasks == ["mt"]
    assert schedule.draw(np.random.default_rng(0), 1.0) == ["mt"]


def test_draws_are_a_function_of_the_generator():
    schedule = Schedule("sigmoid", "mt", AUX, 0.5)
    first = [schedule.draw(np.random.default_rng([1, 2, i]), 0.3) for i in range(100)]
    again = [schedule.draw(np.random.default_rng([1, 2, i]), 0.3) for i in range(100)]
    assert first == again


@pytest.mark.parametrize(
    "name, aux, message",
    [
        ("uniform", [], "--schedule uniform needs at least one auxiliary task"),
        ("sigmoid", [], "--schedule sigmoid needs at least one auxiliary task"),
        ("round_robin", AUX, "--schedule 'round_robin' is unknown"),
    ],
)
def test_bad_schedules_are_rejected_with_the_flag(name, aux, message):
    with pytest.raises(ValueError, match=message):
        Schedule(name, "mt", aux, 0.5)
