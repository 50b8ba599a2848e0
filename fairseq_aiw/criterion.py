"""Cross-entropy with per-sentence losses and per-task logging (``aiw_cross_entropy``).

Adaptive importance weighting needs one loss per training sentence, so the
loss is first computed per sentence (summed over its target tokens) and only
then reduced, optionally with a weight per sentence. Logging outputs carry the
step totals under fairseq's usual keys and, per task, the same numbers under
``"{task}:loss"`` etc.; :meth:`AIWCrossEntropyCriterion.reduce_metrics` turns
them into ``loss``/``ppl`` and ``{task}:loss``/``{task}:ppl``.
"""

import math
from dataclasses import dataclass, field
from typing import Dict, Optional, Tuple

from fairseq import utils
from fairseq.criterions import FairseqCriterion, register_criterion
from fairseq.dataclass import FairseqDataclass
from fairseq.logging import metrics
from omegaconf import II
from torch import Tensor

TASK_KEYS = ("loss", "nll_loss", "ntokens", "nsentences", "sample_size")


@dataclass
class AIWCrossEntropyConfig(FairseqDataclass):
    label_smoothing: float = field(
        default=0.0,
        metadata={"help": "epsilon for label smoothing, 0 means no label smoothing"},
    )
    sentence_avg: bool = II("optimization.sentence_avg")


def per_sentence_losses(
    lprobs: Tensor, target: Tensor, padding_idx: int, epsilon: float
) -> Tuple[Tensor, Tensor]:
    """Label-smoothed cross-entropy summed over each sentence's target tokens.

    The smoothed token loss is ``(1 - eps) * nll + eps * mean_v(-lprobs_v)``:
    the cross-entropy against a target distribution that puts ``1 - eps`` on the
    gold token and spreads ``eps`` uniformly over the whole vocabulary.

    Args:
        lprobs: B x T x V log-probabilities.
        target: B x T gold indices, ``padding_idx`` at pads.
        padding_idx: index whose positions contribute nothing.
        epsilon: label smoothing in [0, 1).

    Returns:
        ``(loss, nll_loss)``, each of shape B, not reduced over the batch.
    """
    pad = target.eq(padding_idx)
    nll = -lprobs.gather(-1, target.unsqueeze(-1)).squeeze(-1)  # B x T
    nll = nll.masked_fill(pad, 0.0)
    if epsilon > 0:
        smooth = -lprobs.mean(dim=-1).masked_fill(pad, 0.0)  # B x T
        loss = (1.0 - epsilon) * nll + epsilon * smooth
    else:
        loss = nll
    return loss.sum(dim=1), nll.sum(dim=1)


@register_criterion("aiw_cross_entropy", dataclass=AIWCrossEntropyConfig)
class AIWCrossEntropyCriterion(FairseqCriterion):
    """Sentence-level cross-entropy for the multitask model."""

    def __init__(self, task, label_smoothing: float, sentence_avg: bool):
        super().__init__(task)
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError("--label-smoothing must be in [0, 1)")
        self.eps = label_smoothing
        self.sentence_avg = sentence_avg

    def sentence_losses(self, model, sample) -> Tuple[Tensor, Tensor, Tensor]:
        """Run ``model`` on ``sample`` and return per-sentence losses.

        Args:
            model: the multitask model (or a wrapper forwarding to it).
            sample: one task's mini-batch; ``sample["task"]`` names the task
                (the main task when absent).

        Returns:
            ``(loss, nll_loss, logits)``: B-shaped losses with graph attached
            and the B x T x V logits.
        """
        net_output = model(**sample["net_input"], task=sample.get("task"))
        lprobs = model.get_normalized_probs(net_output, log_probs=True)
        loss, nll = per_sentence_losses(
            lprobs, sample["target"], self.padding_idx, self.eps
        )
        return loss, nll, net_output[0]

    def forward(self, model, sample, reduce=True, weights: Optional[Tensor] = None):
        """Weighted sum of sentence losses for one task's mini-batch.

        Returns:
            ``(loss, sample_size, logging_output)`` as in fairseq; ``loss`` is
            summed (not normalised), weighted by ``weights`` (B) when given.
        """
        loss, nll, _ = self.sentence_losses(model, sample)
        return self.reduce(sample, loss, nll, weights)

    def reduce(self, sample, loss: Tensor, nll: Tensor, weights: Optional[Tensor]):
        """Sum sentence losses and build the logging output of one task."""
        weighted = loss if weights is None else loss * weights
        summed = weighted.sum()
        return summed, self.sample_size(sample), self.logging_output(sample, loss, nll)

    def sample_size(self, sample) -> int:
        """Denominator of the gradient for one task's mini-batch."""
        return sample["target"].size(0) if self.sentence_avg else sample["ntokens"]

    def logging_output(self, sample, loss: Tensor, nll: Tensor) -> Dict[str, float]:
        """Unweighted totals of one task's mini-batch, plain and per task."""
        task = sample.get("task") or "main"
        values = {
            "loss": loss.detach().sum().item(),
            "nll_loss": nll.detach().sum().item(),
            "ntokens": sample["ntokens"],
            "nsentences": sample["target"].size(0),
            "sample_size": self.sample_size(sample),
        }
        out = dict(values)
        out.update({f"{task}:{k}": v for k, v in values.items()})
        return out

    @staticmethod
    def reduce_metrics(logging_outputs) -> None:
        """Log loss, nll_loss and ppl overall and for each task."""
        tasks = sorted(
            {
                k[: -len(":loss")]
                for log in logging_outputs
                for k in log
                if k.endswith(":loss")
            }
        )
        for prefix in [""] + [f"{t}:" for t in tasks]:
            total = {
                k: sum(log.get(prefix + k, 0) for log in logging_outputs)
                for k in TASK_KEYS
            }
            if total["sample_size"] == 0:
                continue
            metrics.log_scalar(
                prefix + "loss",
                total["loss"] / total["sample_size"] / math.log(2),
                total["sample_size"],
                round=3,
            )
            if total["ntokens"] > 0:
                metrics.log_scalar(
                    prefix + "nll_loss",
                    total["nll_loss"] / total["ntokens"] / math.log(2),
                    total["ntokens"],
                    round=3,
                )
                metrics.log_derived(
                    prefix + "ppl",
                    lambda meters, p=prefix: utils.get_perplexity(
                        meters[p + "nll_loss"].avg
                    ),
                )

    @staticmethod
    def logging_outputs_can_be_summed() -> bool:
        return True


def empty_logging_output(tasks) -> Dict[str, float]:
    """Zeros for every key a step can log, so all ranks share one schema."""
    out = {k: 0 for k in TASK_KEYS}
    for task in tasks:
        out.update({f"{task}:{k}": 0 for k in TASK_KEYS})
    return out


def add_logging_outputs(into: Dict[str, float], other: Dict[str, float]) -> None:
    """Add ``other`` into ``into`` key by key (in place)."""
    for k, v in other.items():
        into[k] = into.get(k, 0) + v
