"""Criterion values checked against numbers computed by hand."""

import math

import pytest
import torch
from fairseq.logging import metrics

from fairseq_aiw.criterion import AIWCrossEntropyCriterion, per_sentence_losses

PAD = 1


def lprobs_of(probs):
    return torch.tensor(probs).log()


def test_per_sentence_nll_by_hand():
    # B=2, T=2, V=3; the second sentence's second token is a pad
    lprobs = lprobs_of(
        [[[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]], [[0.2, 0.2, 0.6], [0.3, 0.3, 0.4]]]
    )
    target = torch.tensor([[0, 2], [2, PAD]])
    loss, nll = per_sentence_losses(lprobs, target, PAD, epsilon=0.0)
    expected = [-math.log(0.5) - math.log(0.8), -math.log(0.6)]
    assert nll.tolist() == pytest.approx(expected)
    assert loss.tolist() == pytest.approx(expected)


def test_label_smoothing_by_hand():
    lprobs = lprobs_of([[[0.5, 0.25, 0.25]]])
    target = torch.tensor([[0]])
    loss, nll = per_sentence_losses(lprobs, target, PAD, epsilon=0.3)
    mean_neg = -(math.log(0.5) + 2 * math.log(0.25)) / 3
    assert loss.item() == pytest.approx(0.7 * -math.log(0.5) + 0.3 * mean_neg)
    assert nll.item() == pytest.approx(-math.log(0.5))


class FixedModel(torch.nn.Module):
    """Returns fixed logits whatever the input, to test the criterion alone."""

    def __init__(self, logits):
        super().__init__()
        self.logits = logits

    def forward(self, src_tokens, src_lengths, prev_output_tokens, task=None):
        return self.logits, None

    def get_normalized_probs(self, net_output, log_probs, sample=None):
        return torch.log_softmax(net_output[0], dim=-1)


class FakeTask:
    class _Dict:
        def pad(self):
            return PAD

    target_dictionary = _Dict()


def test_weighted_loss_and_per_task_logging():
    logits = torch.log(torch.tensor([[[0.5, 0.25, 0.25]], [[0.2, 0.2, 0.6]]]))
    sample = {
        "net_input": {
            "src_tokens": None,
            "src_lengths": None,
            "prev_output_tokens": None,
        },
        "target": torch.tensor([[0], [2]]),
        "ntokens": 2,
        "task": "ner",
    }
    criterion = AIWCrossEntropyCriterion(
        FakeTask(), label_smoothing=0.0, sentence_avg=False
    )
    loss, sample_size, log = criterion(
        FixedModel(logits), sample, weights=torch.tensor([1.0, 3.0])
    )
    assert loss.item() == pytest.approx(-math.log(0.5) - 3 * math.log(0.6))
    assert sample_size == 2
    unweighted = -math.log(0.5) - math.log(0.6)
    assert log["loss"] == pytest.approx(unweighted)
    assert log["ner:loss"] == pytest.approx(unweighted)
    assert log["ner:nsentences"] == 2


def test_reduce_metrics_per_task_in_base_two():
    logs = [
        {
            "loss": 4.0,
            "nll_loss": 4.0,
            "ntokens": 4,
            "nsentences": 2,
            "sample_size": 4,
            "mt:loss": 4.0,
            "mt:nll_loss": 4.0,
            "mt:ntokens": 4,
            "mt:nsentences": 2,
            "mt:sample_size": 4,
            "pos:loss": 0,
            "pos:nll_loss": 0,
            "pos:ntokens": 0,
            "pos:nsentences": 0,
            "pos:sample_size": 0,
        },
    ]
    with metrics.aggregate() as agg:
        AIWCrossEntropyCriterion.reduce_metrics(logs)
        values = agg.get_smoothed_values()
    assert values["mt:loss"] == pytest.approx(1 / math.log(2), abs=1e-3)
    assert values["loss"] == pytest.approx(1 / math.log(2), abs=1e-3)
    assert values["mt:ppl"] == pytest.approx(2 ** (1 / math.log(2)), abs=1e-2)
    assert "pos:loss" not in values  # a task with no data logs nothing
