"""The ``aiw_mtl`` task: one main seq2seq task plus auxiliary ones, trained together.

Data layout: ``DATA/<task>/`` is the output of ``fairseq-preprocess`` for one
task (one language pair, e.g. ``en-vi`` for translation or ``en-pos`` for POS
tagging), all tasks binarised with the same joined dictionary. The main task
needs ``train``, ``valid``, ``meta_valid`` (for AIW) and ``test``; auxiliary
tasks need only ``train``.

Subset names accepted by ``--valid-subset`` and ``--gen-subset`` are ``SPLIT``
(the main task's split) or ``TASK:SPLIT`` (another task's), so
``fairseq-generate --gen-subset ner:test`` decodes the NER task.

At every update the schedule (``--schedule``) picks which tasks give a
mini-batch; with ``--aiw`` every sentence of the update is re-weighted by its
influence on the main task's meta-validation loss (see ``weighting.py``).
"""

import csv
import logging
import os
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import torch
from fairseq import utils
from fairseq.data import ConcatDataset, Dictionary
from fairseq.dataclass import FairseqDataclass
from fairseq.distributed import utils as distributed_utils
from fairseq.logging import metrics
from fairseq.optim.amp_optimizer import AMPOptimizer
from fairseq.tasks import FairseqTask, register_task
from fairseq.tasks.translation import load_langpair_dataset
from omegaconf import II

from fairseq_aiw.criterion import add_logging_outputs, empty_logging_output
from fairseq_aiw.multitask_data import (
    MultitaskBatchIterator,
    MultitaskDataset,
    TaskLabelledDataset,
    TaskStream,
)
from fairseq_aiw.schedules import SCHEDULES, Schedule
from fairseq_aiw.weighting import InfluenceEstimator, unwrap, weight_stats

logger = logging.getLogger(__name__)

WEIGHTS_TSV = "aiw_weights.tsv"


@dataclass
class AIWMultitaskConfig(FairseqDataclass):
    data: str = field(
        default="",
        metadata={"help": "directory holding one fairseq-preprocess folder per task"},
    )
    main_task: str = field(
        default="translation",
        metadata={"help": "sub-folder of DATA with the main task"},
    )
    aux_tasks: str = field(
        default="",
        metadata={"help": "comma-separated sub-folders of DATA with auxiliary tasks"},
    )
    schedule: str = field(
        default="uniform",
        metadata={"help": f"which tasks give a mini-batch per update: {SCHEDULES}"},
    )
    schedule_alpha: float = field(
        default=0.5,
        metadata={"help": "slope alpha of the constant/exponential/sigmoid schedules"},
    )
    add_meta_valid_to_train: bool = field(
        default=False,
        metadata={
            "help": "train the main task on train + meta_valid (what the paper "
            "does for the baselines, which do not use the meta-valid set)"
        },
    )
    aiw: bool = field(
        default=False,
        metadata={"help": "weight every training sentence by its AIW each update"},
    )
    aiw_mode: str = field(
        default="fast",
        metadata={
            "help": "fast (exact at eps=0, forward differences) or exact "
            "(double backward through the lookahead, one process only)"
        },
    )
    aiw_probe: str = field(
        default="forward",
        metadata={
            "help": "fast mode's finite difference: forward (one probe per "
            "task, reuses the training forward, keeps every task's graph "
            "until the weights are known) or central (two probes per task, "
            "one task's graph alive at a time: less memory, more time)"
        },
    )
    aiw_lookahead_lr: Optional[float] = field(
        default=None,
        metadata={
            "help": "learning rate of the one-step lookahead; None = the "
            "optimiser's current learning rate"
        },
    )
    aiw_meta_valid_subset: str = field(
        default="meta_valid",
        metadata={"help": "main-task split that drives AIW"},
    )
    aiw_meta_valid_batch_size: int = field(
        default=32,
        metadata={"help": "sentences per meta-valid mini-batch (per worker)"},
    )
    aiw_log_interval: int = field(
        default=200,
        metadata={
            "help": f"updates per row of SAVE_DIR/{WEIGHTS_TSV} (0 = do not write it)"
        },
    )
    max_source_positions: int = field(
        default=1024, metadata={"help": "max number of tokens in the source sequence"}
    )
    max_target_positions: int = field(
        default=1024, metadata={"help": "max number of tokens in the target sequence"}
    )
    seed: int = II("common.seed")
    train_subset: str = II("dataset.train_subset")
    dataset_impl: Optional[str] = II("dataset.dataset_impl")
    save_dir: str = II("checkpoint.save_dir")


def language_pair(task_dir: str, flag: str) -> Tuple[str, str]:
    """Source and target language of a fairseq-preprocess folder."""
    if not os.path.isdir(task_dir):
        raise FileNotFoundError(f"{flag}: task folder {task_dir} does not exist")
    pairs = set()
    for name in os.listdir(task_dir):
        m = re.fullmatch(r"[^.]+\.([^.-]+)-([^.-]+)\.\1\.idx", name)
        if m:
            pairs.add(m.groups())
    if len(pairs) != 1:
        raise ValueError(
            f"{flag}: expected one language pair in {task_dir} (files like "
            f"train.en-vi.en.idx), found {sorted(pairs) or 'none'}"
        )
    return pairs.pop()


@register_task("aiw_mtl", dataclass=AIWMultitaskConfig)
class AIWMultitaskTask(FairseqTask):
    """Multitask training with fixed schedules and adaptive importance weights."""

    def __init__(self, cfg, dictionary: Dictionary, pairs: Dict[str, Tuple[str, str]]):
        super().__init__(cfg)
        self.dictionary = dictionary
        self.pairs = pairs
        self._schedule: Optional[Schedule] = None
        self.aiw: Optional[InfluenceEstimator] = None
        self._meta_stream: Optional[TaskStream] = None
        # AIW logging sums since the last row of the weights TSV
        self._chunk: Dict[str, float] = {}
        self._chunk_flushed_at = -1
        self._warned_fallback = False

    @classmethod
    def setup_task(cls, cfg, **kwargs):
        if not cfg.data:
            raise ValueError("aiw_mtl needs the data directory (positional DATA)")
        aux = [t for t in cfg.aux_tasks.split(",") if t]
        if cfg.main_task in aux or len(set(aux)) != len(aux):
            raise ValueError(f"--aux-tasks {cfg.aux_tasks!r} repeats a task")
        pairs = {}
        for task, flag in [(cfg.main_task, "--main-task")] + [
            (t, "--aux-tasks") for t in aux
        ]:
            pairs[task] = language_pair(os.path.join(cfg.data, task), f"{flag} {task}")
        if cfg.aiw_mode not in ("fast", "exact"):
            raise ValueError(
                f"--aiw-mode {cfg.aiw_mode!r} is unknown; use fast or exact"
            )
        if cfg.aiw_probe not in ("forward", "central"):
            raise ValueError(
                f"--aiw-probe {cfg.aiw_probe!r} is unknown; use forward or central"
            )
        if cfg.aiw and cfg.add_meta_valid_to_train:
            raise ValueError(
                "--add-meta-valid-to-train is for baselines, not with --aiw"
            )
        dictionary = cls._load_joined_dictionary(cfg.data, pairs)
        logger.info(
            "aiw_mtl tasks: "
            + ", ".join(f"{t} ({s}->{g})" for t, (s, g) in pairs.items())
            + f"; main task {cfg.main_task}; dictionary {len(dictionary)} types; "
            f"schedule {cfg.schedule}; AIW {cfg.aiw_mode if cfg.aiw else 'off'}"
        )
        return cls(cfg, dictionary, pairs)

    @staticmethod
    def _load_joined_dictionary(data: str, pairs) -> Dictionary:
        files = [
            os.path.join(data, task, f"dict.{lang}.txt")
            for task, pair in pairs.items()
            for lang in pair
        ]
        for path in files:
            if not os.path.exists(path):
                raise FileNotFoundError(f"dictionary {path} is missing")
        first = Dictionary.load(files[0])
        for path in files[1:]:
            if Dictionary.load(path).symbols != first.symbols:
                raise ValueError(
                    f"dictionary mismatch: {path} differs from {files[0]}; binarise "
                    "every task with one joined dictionary (--srcdict/--tgtdict)"
                )
        return first

    @property
    def schedule(self) -> Schedule:
        """The training schedule, validated when training first needs it.

        Decoding never needs one, so ``fairseq-generate`` works without
        ``--aux-tasks`` whatever ``--schedule`` says.
        """
        if self._schedule is None:
            aux = [t for t in self.pairs if t != self.cfg.main_task]
            self._schedule = Schedule(
                self.cfg.schedule, self.cfg.main_task, aux, self.cfg.schedule_alpha
            )
        return self._schedule

    # -- properties fairseq asks for ---------------------------------------------

    @property
    def model_task_names(self) -> List[str]:
        """Tasks the model needs heads for: those the schedule can draw."""
        return self.schedule.tasks

    @property
    def source_dictionary(self):
        return self.dictionary

    @property
    def target_dictionary(self):
        return self.dictionary

    def max_positions(self):
        return (self.cfg.max_source_positions, self.cfg.max_target_positions)

    # -- data ---------------------------------------------------------------------

    def parse_subset(self, subset: str) -> Tuple[str, str]:
        """``"SPLIT"`` -> (main task, SPLIT); ``"TASK:SPLIT"`` -> (TASK, SPLIT)."""
        task, _, split = subset.rpartition(":")
        task = task or self.cfg.main_task
        if task not in self.pairs:
            raise ValueError(
                f"subset {subset!r} names task {task!r}, which is not among "
                f"--main-task/--aux-tasks ({', '.join(self.pairs)})"
            )
        return task, split

    def load_task_split(self, task: str, split: str, combine: bool = False):
        """One task's split as a dataset whose batches carry ``"task"``."""
        src, tgt = self.pairs[task]
        folder = os.path.join(self.cfg.data, task)
        prefix = os.path.join(folder, f"{split}.{src}-{tgt}")
        for lang in (src, tgt):
            if not os.path.exists(f"{prefix}.{lang}.idx"):
                raise FileNotFoundError(
                    f"task {task}: split {split!r} is missing ({prefix}.{lang}.idx)"
                )
        dataset = load_langpair_dataset(
            folder,
            split,
            src,
            self.dictionary,
            tgt,
            self.dictionary,
            combine=combine,
            dataset_impl=self.cfg.dataset_impl,
            upsample_primary=1,
            # the encoder packs sequences, which wants right padding
            left_pad_source=False,
            left_pad_target=False,
            max_source_positions=self.cfg.max_source_positions,
            max_target_positions=self.cfg.max_target_positions,
        )
        return TaskLabelledDataset(dataset, task)

    def load_dataset(self, split: str, epoch: int = 1, combine: bool = False, **kwargs):
        if split == self.cfg.train_subset:
            self.datasets[split] = self._load_training_data(split)
            return
        task, task_split = self.parse_subset(split)
        self.datasets[split] = self.load_task_split(task, task_split)

    def _load_training_data(self, split: str) -> MultitaskDataset:
        datasets = {t: self.load_task_split(t, split) for t in self.schedule.tasks}
        main = self.cfg.main_task
        if self.cfg.add_meta_valid_to_train:
            meta = self.load_task_split(main, self.cfg.aiw_meta_valid_subset)
            datasets[main] = TaskLabelledDataset(
                ConcatDataset([datasets[main].dataset, meta.dataset]), main
            )
        if self.cfg.aiw:
            self.datasets[self.cfg.aiw_meta_valid_subset] = self.load_task_split(
                main, self.cfg.aiw_meta_valid_subset
            )
        sizes = ", ".join(f"{t} {len(d):,}" for t, d in datasets.items())
        logger.info(f"training sentences per task: {sizes}")
        return MultitaskDataset(datasets)

    def get_batch_iterator(self, dataset, **kwargs):
        # fairseq main (ve-fairseq 0.12.3) drops the last batch of an epoch when
        # its size is not a multiple of --required-batch-size-multiple (default
        # 8): test sentences would go undecoded and the longest training
        # sentences never seen. LSTMs gain nothing from the multiple, so use 1.
        kwargs["required_batch_size_multiple"] = 1
        if not isinstance(dataset, MultitaskDataset):
            return super().get_batch_iterator(dataset, **kwargs)
        cached = self.dataset_to_epoch_iter.get(dataset)
        if cached is not None and not kwargs.get("disable_iterator_cache", False):
            return cached
        streams = {
            task: TaskStream(
                super(AIWMultitaskTask, self).get_batch_iterator(
                    ds, **{**kwargs, "disable_iterator_cache": True}
                )
            )
            for task, ds in dataset.datasets.items()
        }
        side = {}
        if self.cfg.aiw:
            self._meta_stream = self._meta_valid_stream(
                kwargs.get("num_shards", 1), kwargs.get("shard_id", 0)
            )
            side["meta_valid"] = self._meta_stream
        itr = MultitaskBatchIterator(
            streams,
            self.schedule,
            seed=self.cfg.seed,
            epoch=kwargs.get("epoch", 1),
            side_streams=side,
        )
        self.dataset_to_epoch_iter[dataset] = itr
        return itr

    def _meta_valid_stream(self, num_shards: int, shard_id: int) -> TaskStream:
        """Endless meta-valid batches; checkpointed with the train iterator."""
        subset = self.cfg.aiw_meta_valid_subset
        if subset not in self.datasets:
            self.load_dataset(subset)
        return TaskStream(
            super().get_batch_iterator(
                self.datasets[subset],
                max_sentences=self.cfg.aiw_meta_valid_batch_size,
                max_positions=self.max_positions(),
                ignore_invalid_inputs=True,
                required_batch_size_multiple=1,
                seed=self.cfg.seed,
                num_shards=num_shards,
                shard_id=shard_id,
                disable_iterator_cache=True,
            )
        )

    def _next_meta_valid_batch(self, like: dict) -> dict:
        if self._meta_stream is None:  # train_step called without our iterator
            self._meta_stream = self._meta_valid_stream(_world_size(), _rank())
        batch = self._meta_stream.next_batch()
        return utils.move_to_cuda(batch) if _on_cuda(like) else batch

    # -- training -----------------------------------------------------------------

    def train_step(
        self, sample, model, criterion, optimizer, update_num, ignore_grad=False
    ):
        """One update on ``{task: mini-batch}`` (every drawn task's batch).

        Returns:
            ``(loss, sample_size, logging_output)``; ``loss`` is the detached sum
            of weighted sentence losses over tasks, ``sample_size`` the total of
            every task's denominator, ``logging_output`` has one key set for all
            tasks (zeros for tasks not drawn) so workers can sum it.
        """
        _check_data_parallel_backend(model)
        model.train()
        model.set_num_updates(update_num)
        self._flush_weight_chunk(update_num)
        tasks = list(self.pairs)
        logging_output = empty_logging_output(tasks)
        if self.cfg.aiw:
            logging_output.update(weight_stats_schema(tasks))
        autocast = torch.autocast("cuda", enabled=isinstance(optimizer, AMPOptimizer))
        with autocast:
            if self.cfg.aiw:
                loss, sample_size = self._aiw_step(
                    sample, model, criterion, optimizer, ignore_grad, logging_output
                )
            else:
                loss, sample_size = self._backward_tasks(
                    sample, model, criterion, optimizer, ignore_grad, logging_output
                )
        return loss, sample_size, logging_output

    def _aiw_step(self, sample, model, criterion, optimizer, ignore_grad, log):
        """Algorithm 1 of the paper, one update.

        The meta-valid gradient is taken first, so that its graph is freed
        before any training forward. Then: per-sentence losses (kept with their
        graph unless the central probe runs them after the weights), influences,
        normalised weights, and the weighted backward.
        """
        estimator = self._estimator(criterion)
        inner = unwrap(model)
        lr = self.cfg.aiw_lookahead_lr or optimizer.get_lr()
        meta_seed = int(torch.randint(0, 2**31 - 1, (1,)))
        seeds = {task: meta_seed + 1 + i for i, task in enumerate(sample)}
        meta = self._next_meta_valid_batch(sample)
        if self.cfg.aiw_mode == "exact":
            raw, losses = estimator.exact_influence(
                inner, sample, seeds, meta, meta_seed, lr
            )
        else:
            # 1. meta-valid gradient v
            direction = estimator.meta_valid_gradient(inner, meta, meta_seed)
            # 2. per-sentence losses with their graph (forward probe only)
            losses = None
            if self.cfg.aiw_probe == "forward":
                losses = {
                    task: self._sentence_losses(criterion, model, s, seeds[task])
                    for task, s in sample.items()
                }
            # 3. influence raw_i = -lr <v, grad l_i>
            base = None if losses is None else {t: v[0] for t, v in losses.items()}
            raw = estimator.fast_influence(inner, sample, seeds, direction, lr, base)
            del direction
        # 4. normalise over the whole multitask batch
        weights, fell_back = estimator.normalise(raw)
        if fell_back:
            self._warn_fallback()
        log["aiw_fallback"] += float(fell_back)
        stats = weight_stats(weights)
        add_logging_outputs(log, stats)
        add_logging_outputs(self._chunk, stats)
        # 5. weighted update
        return self._backward_tasks(
            sample,
            model,
            criterion,
            optimizer,
            ignore_grad,
            log,
            weights,
            losses,
            seeds,
        )

    @staticmethod
    def _sentence_losses(criterion, model, sample, seed: Optional[int]):
        if seed is not None:
            torch.manual_seed(seed)
        loss, nll, _ = criterion.sentence_losses(model, sample)
        return loss, nll

    def _backward_tasks(
        self,
        sample,
        model,
        criterion,
        optimizer,
        ignore_grad,
        log,
        weights=None,
        losses=None,
        seeds=None,
    ):
        """Backward of ``sum_i w_i l_i`` over the update's tasks.

        Without ``losses``, each task's forward and backward run in turn, so a
        single task's graph is alive at a time; with ``losses`` (kept graphs),
        one backward runs over their sum. ``weights`` None means weights 1.

        Returns:
            ``(loss, sample_size)``: the detached weighted loss and its denominator.
        """
        total, sample_size, pending = 0.0, 0, 0.0
        for task, task_sample in sample.items():
            if losses is None:
                seed = None if seeds is None else seeds[task]
                loss, nll = self._sentence_losses(criterion, model, task_sample, seed)
            else:
                loss, nll = losses[task]
            w = None if weights is None else weights[task].to(loss)
            weighted, size, task_log = criterion.reduce(task_sample, loss, nll, w)
            if ignore_grad:
                weighted = weighted * 0
            if losses is None:
                optimizer.backward(weighted)  # frees this task's graph now
            else:
                pending = pending + weighted
            total += weighted.detach()
            sample_size += size
            add_logging_outputs(log, task_log)
        if losses is not None:
            optimizer.backward(pending)
        return total, sample_size

    def _estimator(self, criterion) -> InfluenceEstimator:
        if self.aiw is None:
            world = _world_size()
            if world > 1 and self.cfg.aiw_mode == "exact":
                raise ValueError(
                    "--aiw-mode exact runs on one process; use --aiw-mode fast "
                    "for data-parallel training"
                )
            self.aiw = InfluenceEstimator(
                criterion, self.cfg.aiw_mode, _all_reduce_sum if world > 1 else None
            )
        return self.aiw

    def _warn_fallback(self):
        if not self._warned_fallback:
            logger.warning(
                "AIW: a non-finite influence; this update used weights 1 "
                "(counted in aiw_fallback, warned once)"
            )
            self._warned_fallback = True

    # -- weight dynamics ----------------------------------------------------------

    def _flush_weight_chunk(self, update_num: int) -> None:
        """Append the finished chunk's average weights to the TSV (rank 0)."""
        interval = self.cfg.aiw_log_interval
        if not self.cfg.aiw or interval <= 0 or update_num == 0:
            return
        if update_num % interval or self._chunk_flushed_at == update_num:
            return
        tasks = list(self.pairs)
        keys = [f"{t}:{k}" for t in tasks for k in ("aiw", "aiw_zero", "aiw_n")]
        totals = torch.tensor(
            [self._chunk.get(k, 0.0) for k in keys], dtype=torch.float64
        )
        if _world_size() > 1:
            totals = _all_reduce_sum(totals)
        self._chunk, self._chunk_flushed_at = {}, update_num
        if _rank() != 0:
            return
        append_weight_rows(
            os.path.join(self.cfg.save_dir, WEIGHTS_TSV),
            update_num,
            tasks,
            totals.view(len(tasks), 3).tolist(),
        )

    # -- evaluation -----------------------------------------------------------------

    def valid_step(self, sample, model, criterion):
        model.eval()
        logging_output = empty_logging_output(list(self.pairs))
        with torch.no_grad():
            loss, sample_size, task_log = criterion(model, sample)
        add_logging_outputs(logging_output, task_log)
        return loss, sample_size, logging_output

    def reduce_metrics(self, logging_outputs, criterion):
        super().reduce_metrics(logging_outputs, criterion)
        if not self.cfg.aiw:
            return
        for task in self.pairs:
            n = sum(log.get(f"{task}:aiw_n", 0) for log in logging_outputs)
            if n > 0:
                mean = sum(log.get(f"{task}:aiw", 0) for log in logging_outputs) / n
                zero = sum(log.get(f"{task}:aiw_zero", 0) for log in logging_outputs)
                metrics.log_scalar(f"{task}:aiw", mean, n, round=4)
                metrics.log_scalar(f"{task}:aiw_zero", zero / n, n, round=3)
        fallbacks = sum(log.get("aiw_fallback", 0) for log in logging_outputs)
        if fallbacks:
            metrics.log_scalar_sum("aiw_fallback", fallbacks)

    def build_generator(self, models, args, **kwargs):
        return TaskRoutingGenerator(
            lambda task: super(AIWMultitaskTask, self).build_generator(
                [unwrap(m).models[task] for m in models], args, **kwargs
            ),
            self.dictionary.eos(),
        )

    def inference_step(
        self, generator, models, sample, prefix_tokens=None, constraints=None
    ):
        task = sample.get("task", self.cfg.main_task)
        if task not in unwrap(models[0]).models:
            raise ValueError(
                f"the checkpoint has no decoder for task {task!r} "
                f"(it has {', '.join(unwrap(models[0]).models)})"
            )
        with torch.no_grad():
            return generator.for_task(task).generate(
                models, sample, prefix_tokens=prefix_tokens, constraints=constraints
            )


class TaskRoutingGenerator:
    """One sequence generator per task, built on first use."""

    def __init__(self, build, eos: int):
        self._build, self._generators = build, {}
        self.symbols_to_strip_from_output = {eos}

    def for_task(self, task: str):
        if task not in self._generators:
            self._generators[task] = self._build(task)
        return self._generators[task]


def weight_stats_schema(tasks) -> Dict[str, float]:
    """Zeroed AIW logging keys of every task, plus the fallback counter."""
    out = {"aiw_fallback": 0.0}
    for task in tasks:
        out.update({f"{task}:aiw": 0.0, f"{task}:aiw_zero": 0.0, f"{task}:aiw_n": 0.0})
    return out


def append_weight_rows(path: str, update: int, tasks, rows) -> None:
    """Append one chunk (``[sum, zero count, n]`` per task) to the weights TSV."""
    new = not os.path.exists(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "a", newline="") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\n")
        if new:
            writer.writerow(
                ["update", "task", "mean_weight", "zero_fraction", "num_examples"]
            )
        for task, (total, zero, n) in zip(tasks, rows):
            if n > 0:
                writer.writerow(
                    [update, task, f"{total / n:.6f}", f"{zero / n:.4f}", int(n)]
                )


def _world_size() -> int:
    if not torch.distributed.is_available() or not torch.distributed.is_initialized():
        return 1
    return distributed_utils.get_data_parallel_world_size()


def _rank() -> int:
    return distributed_utils.get_data_parallel_rank() if _world_size() > 1 else 0


def _all_reduce_sum(tensor: torch.Tensor) -> torch.Tensor:
    return distributed_utils.all_reduce(
        tensor.clone(), group=distributed_utils.get_data_parallel_group()
    )


def _on_cuda(sample: dict) -> bool:
    first = next(iter(sample.values()))
    return first["target"].is_cuda


def _check_data_parallel_backend(model) -> None:
    if isinstance(
        getattr(model, "module", None), torch.nn.parallel.DistributedDataParallel
    ):
        raise ValueError(
            "aiw_mtl needs --ddp-backend legacy_ddp for data-parallel training: "
            "an update runs several forwards and leaves other tasks' layers unused"
        )
