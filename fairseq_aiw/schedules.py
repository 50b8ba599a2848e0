"""Training schedules: which tasks contribute a mini-batch at each update.

A schedule is a pure function of a random generator and the training progress
``t`` (how many main-task epochs' worth of mini-batches have been consumed so
far, as a float). It returns the names of the tasks that give one mini-batch to
the current update, main task first. Nothing here knows about fairseq.

The fixed schedules are the baselines of Zaremoodi & Haffari (2019):

* ``main_only``: translation alone (the "MT only" row).
* ``uniform``: one mini-batch from every task at every update.
* ``biased``: one main-task mini-batch plus one from a random auxiliary task.
* ``constant`` / ``exponential`` / ``sigmoid`` (Kiperwasser & Ballesteros, 2018):
  a single task is drawn per update, the main task with probability
  ``P_main(t)`` and each auxiliary task with ``(1 - P_main(t)) / (K - 1)``.
"""

import math
from typing import Callable, Dict, List, Sequence

import numpy as np

SCHEDULES = (
    "main_only",
    "uniform",
    "biased",
    "constant",
    "exponential",
    "sigmoid",
)


def main_task_probability(schedule: str, t: float, alpha: float) -> float:
    """Probability that a single-draw schedule picks the main task.

    Args:
        schedule: one of ``constant``, ``exponential`` or ``sigmoid``.
        t: training progress in main-task epochs (0 at the start, 1.5 half way
            through the second epoch).
        alpha: slope of the schedule (0.5 in the paper).

    Returns:
        ``P_main(t)`` in [0, 1].
    """
    formulas: Dict[str, Callable[[float], float]] = {
        "constant": lambda t: alpha,
        "exponential": lambda t: 1.0 - math.exp(-alpha * t),
        "sigmoid": lambda t: 1.0 / (1.0 + math.exp(-alpha * t)),
    }
    if schedule not in formulas:
        raise ValueError(f"schedule {schedule!r} does not draw a single task")
    return min(1.0, max(0.0, formulas[schedule](t)))


class Schedule:
    """Chooses the tasks of each update.

    Args:
        name: one of :data:`SCHEDULES`.
        main_task: name of the main task.
        aux_tasks: names of the auxiliary tasks (may be empty only for
            ``main_only``).
        alpha: slope of the Kiperwasser & Ballesteros schedules.
    """

    def __init__(
        self, name: str, main_task: str, aux_tasks: Sequence[str], alpha: float
    ):
        if name not in SCHEDULES:
            raise ValueError(
                f"--schedule {name!r} is unknown; choose one of {', '.join(SCHEDULES)}"
            )
        if name != "main_only" and not aux_tasks:
            raise ValueError(
                f"--schedule {name} needs at least one auxiliary task (--aux-tasks)"
            )
        self.name = name
        self.main_task = main_task
        self.aux_tasks = list(aux_tasks) if name != "main_only" else []
        self.alpha = alpha

    @property
    def tasks(self) -> List[str]:
        """Every task this schedule can draw, main task first."""
        return [self.main_task] + self.aux_tasks

    @property
    def draws_one_task(self) -> bool:
        """True for the schedules that give a single mini-batch per update."""
        return self.name in ("constant", "exponential", "sigmoid")

    def draw(self, rng: np.random.Generator, t: float) -> List[str]:
        """Tasks that contribute a mini-batch to one update.

        Args:
            rng: generator owned by the caller; this is the only randomness used.
            t: training progress in main-task epochs.

        Returns:
            Task names, main task first when present, without repetition.
        """
        if self.name == "main_only":
            return [self.main_task]
        if self.name == "uniform":
            return self.tasks
        if self.name == "biased":
            return [self.main_task, self.aux_tasks[rng.integers(len(self.aux_tasks))]]
        p_main = main_task_probability(self.name, t, self.alpha)
        if rng.random() < p_main:
            return [self.main_task]
        return [self.aux_tasks[rng.integers(len(self.aux_tasks))]]
