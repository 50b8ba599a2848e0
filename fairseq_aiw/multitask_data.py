"""Multitask mini-batches for fairseq's training loop.

fairseq's trainer asks the task for one ``EpochBatchIterator`` over the training
split. For multitask training that iterator yields, at every update, a dict
``{task_name: sample}`` with one mini-batch from each task the schedule drew.

* Every task has its own fairseq batch iterator (sharded for data-parallel
  training, reshuffled each of its epochs) wrapped in a :class:`TaskStream`
  that cycles: a task whose data runs out starts its next epoch.
* One multitask epoch is as many updates as the main task has mini-batches,
  so with ``uniform``/``biased`` it is exactly one pass over the main task.
* The draw at update ``i`` of epoch ``e`` depends only on ``(seed, e, i)``
  and the progress ``t = e - 1 + i / len(epoch)``: resuming from a checkpoint
  replays the same draws, and all data-parallel workers draw the same tasks.
"""

import logging
from typing import Dict, List, Optional

import numpy as np
from fairseq.data import BaseWrapperDataset, FairseqDataset
from fairseq.data.iterators import EpochBatchIterating, EpochBatchIterator

from fairseq_aiw.schedules import Schedule

logger = logging.getLogger(__name__)


class TaskLabelledDataset(BaseWrapperDataset):
    """A task's dataset whose mini-batches say which task they belong to."""

    def __init__(self, dataset: FairseqDataset, task: str):
        super().__init__(dataset)
        self.task = task

    def collater(self, samples):
        batch = self.dataset.collater(samples)
        if batch:
            batch["task"] = self.task
        return batch


class MultitaskDataset(FairseqDataset):
    """The training split of every task, keyed by task name (main task first).

    It is never indexed directly: :class:`MultitaskBatchIterator` batches each
    task's dataset separately.
    """

    def __init__(self, datasets: Dict[str, FairseqDataset]):
        super().__init__()
        self.datasets = datasets

    def __len__(self):
        return len(next(iter(self.datasets.values())))

    def __getitem__(self, index):
        raise TypeError("MultitaskDataset is batched per task, not indexed")

    def set_epoch(self, epoch):
        for dataset in self.datasets.values():
            if hasattr(dataset, "set_epoch"):
                dataset.set_epoch(epoch)


class TaskStream:
    """An endless sequence of one task's mini-batches.

    Args:
        iterator: fairseq's batch iterator over the task's training split.
    """

    def __init__(self, iterator: EpochBatchIterator):
        self.iterator = iterator
        self._itr = None

    def __len__(self):
        return len(self.iterator)

    def next_batch(self, shuffle: bool = True):
        """The next mini-batch; starts the task's next epoch when one ends."""
        if self._itr is None or not self._itr.has_next():
            self._itr = self.iterator.next_epoch_itr(shuffle=shuffle)
        return next(self._itr)

    def state_dict(self) -> Optional[dict]:
        return None if self._itr is None else self.iterator.state_dict()

    def load_state_dict(self, state: Optional[dict]) -> None:
        self._itr = None
        if state is not None:
            self.iterator.load_state_dict(state)


class _MultitaskEpoch:
    """The updates of one multitask epoch (an iterator with a known length)."""

    def __init__(self, owner: "MultitaskBatchIterator", epoch: int, start: int):
        self.owner, self.epoch, self.n = owner, epoch, start
        self.total = len(owner)

    def __len__(self):
        return self.total

    def __iter__(self):
        return self

    def has_next(self) -> bool:
        return self.n < self.total

    def __next__(self):
        if not self.has_next():
            raise StopIteration
        batch = self.owner.batch_for_update(self.epoch, self.n)
        self.n += 1
        return batch

    def take(self, n: int):
        self.total = min(self.total, n)
        return self

    def skip(self, n: int):
        for _ in range(n):
            next(self)
        return self


class MultitaskBatchIterator(EpochBatchIterating):
    """fairseq epoch iterator yielding ``{task: sample}`` per update.

    Args:
        streams: one :class:`TaskStream` per task, main task first.
        schedule: decides which tasks give a batch to each update.
        seed: seed of the draws.
        epoch: epoch to start from (1-based).
        side_streams: other streams whose position is checkpointed with this
            iterator (the meta-valid batches of AIW), read by their owner.
    """

    def __init__(
        self,
        streams: Dict[str, TaskStream],
        schedule: Schedule,
        seed: int,
        epoch: int = 1,
        side_streams: Optional[Dict[str, TaskStream]] = None,
    ):
        self.streams = streams
        self.schedule = schedule
        self.seed = seed
        self.epoch = max(epoch, 1)
        self.side_streams = side_streams or {}
        self.shuffle = True
        self._cur: Optional[_MultitaskEpoch] = None
        self._resume_at: Optional[int] = None

    def __len__(self) -> int:
        return len(self.streams[self.schedule.main_task])

    @property
    def n(self) -> int:
        return self.iterations_in_epoch

    @property
    def first_batch(self):
        main = self.schedule.main_task
        return {main: self.streams[main].iterator.first_batch}

    def draw(self, epoch: int, update: int) -> List[str]:
        """Tasks of update ``update`` (0-based) of ``epoch`` (1-based)."""
        rng = np.random.default_rng([self.seed, epoch, update])
        return self.schedule.draw(rng, epoch - 1 + update / len(self))

    def batch_for_update(self, epoch: int, update: int) -> Dict[str, dict]:
        """One mini-batch from each drawn task; empty shards are left out."""
        tasks = self.draw(epoch, update)
        batches = {t: self.streams[t].next_batch(self.shuffle) for t in tasks}
        return {t: b for t, b in batches.items() if b}

    @property
    def next_epoch_idx(self) -> int:
        if self._resume_at is not None:
            return self.epoch
        if self._cur is not None and not self._cur.has_next():
            return self.epoch + 1
        return self.epoch

    def next_epoch_itr(
        self, shuffle=True, fix_batches_to_gpus=False, set_dataset_epoch=True
    ):
        self.shuffle = shuffle
        if self._resume_at is not None:
            self._cur = _MultitaskEpoch(self, self.epoch, self._resume_at)
            self._resume_at = None
        else:
            self.epoch = self.next_epoch_idx
            self._cur = _MultitaskEpoch(self, self.epoch, 0)
        return self._cur

    def end_of_epoch(self) -> bool:
        return self._cur is None or not self._cur.has_next()

    @property
    def iterations_in_epoch(self) -> int:
        if self._cur is not None:
            return self._cur.n
        return self._resume_at or 0

    def state_dict(self) -> dict:
        finished = self._cur is not None and not self._cur.has_next()
        return {
            "version": 2,
            "epoch": self.epoch + 1 if finished else self.epoch,
            "iterations_in_epoch": 0 if finished else self.iterations_in_epoch,
            "shuffle": self.shuffle,
            "streams": {t: s.state_dict() for t, s in self.streams.items()},
            "side_streams": {n: s.state_dict() for n, s in self.side_streams.items()},
        }

    def load_state_dict(self, state_dict: dict) -> None:
        self.epoch = state_dict["epoch"]
        self.shuffle = state_dict.get("shuffle", True)
        position = state_dict.get("iterations_in_epoch", 0)
        self._cur = None
        self._resume_at = position if position > 0 else None
        for task, state in state_dict.get("streams", {}).items():
            if task in self.streams:
                self.streams[task].load_state_dict(state)
        for name, state in state_dict.get("side_streams", {}).items():
            if name in self.side_streams:
                self.side_streams[name].load_state_dict(state)
