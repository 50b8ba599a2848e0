"""Adaptive importance weights: fast vs exact, parameter identity, edge cases."""

import math

import pytest
import torch
from helpers import build_components

from fairseq_aiw.weighting import InfluenceEstimator, trainable_parameters

PAPER_SHAPED = [
    "--encoder-layers",
    "3",
    "--decoder-layers",
    "3",
    "--hidden-size",
    "64",
    "--embed-dim",
    "48",
    "--shared-encoder-layers",
    "1",
    "--shared-decoder-layers",
    "2",
]


def setup(data, extra=()):
    task, model, criterion, _ = build_components(
        data, ["--aux-tasks", "pos", "--aiw", "--dropout", "0.3", *extra]
    )
    task.load_dataset("train")
    itr = task.get_batch_iterator(
        task.dataset("train"), max_sentences=8, max_positions=(1024, 1024), seed=1
    )
    sample = next(itr.next_epoch_itr(shuffle=True))
    meta = task._next_meta_valid_batch(sample)
    model.train()
    return task, model, criterion, sample, meta


def training_losses(model, criterion, sample, seeds):
    losses = {}
    for task, task_sample in sample.items():
        torch.manual_seed(seeds[task])
        losses[task] = criterion.sentence_losses(model, task_sample)[0]
    return losses


def raw_influences(model, criterion, sample, meta, mode, lr=0.1, probe="central"):
    estimator = InfluenceEstimator(criterion, mode)
    seeds = {task: 100 + i for i, task in enumerate(sample)}
    if mode == "exact":
        raw, _ = estimator.exact_influence(model, sample, seeds, meta, 7, lr)
        return raw
    direction = estimator.meta_valid_gradient(model, meta, 7)
    base = (
        training_losses(model, criterion, sample, seeds) if probe == "forward" else None
    )
    return estimator.fast_influence(model, sample, seeds, direction, lr, base)


def relative_l2(a, b):
    a = torch.cat([a[t] for t in sorted(a)]).double()
    b = torch.cat([b[t] for t in sorted(b)]).double()
    return ((a - b).norm() / b.norm()).item()


@pytest.mark.parametrize("probe", ["forward", "central"])
@pytest.mark.parametrize("shape", [[], PAPER_SHAPED], ids=["tiny", "paper_shaped"])
def test_fast_matches_exact_with_dropout(tiny_data, shape, probe):
    _, model, criterion, sample, meta = setup(tiny_data, shape)
    exact = raw_influences(model, criterion, sample, meta, "exact")
    fast = raw_influences(model, criterion, sample, meta, "fast", probe=probe)
    assert set(fast) == {"translation", "pos"}
    assert all(exact[t].abs().max() > 0 for t in exact)
    assert relative_l2(fast, exact) <= 1e-2


def test_without_mask_replay_fast_mode_measures_noise(tiny_data):
    """Control: probes whose dropout masks differ from the exact mode's are
    far off, so the agreement above is due to replaying the masks."""
    _, model, criterion, sample, meta = setup(tiny_data, PAPER_SHAPED)
    exact = raw_influences(model, criterion, sample, meta, "exact")
    estimator = InfluenceEstimator(criterion, "fast")
    direction = estimator.meta_valid_gradient(model, meta, 7)
    seeds = {t: 100 + i for i, t in enumerate(sample)}
    base = training_losses(model, criterion, sample, seeds)
    other_seeds = {t: 999 + i for i, t in enumerate(sample)}
    fast = estimator.fast_influence(model, sample, other_seeds, direction, 0.1, base)
    assert relative_l2(fast, exact) > 0.1


def test_raw_influence_is_minus_lr_times_gradient_inner_product(tiny_data):
    """The identity the fast mode rests on, checked with plain autograd."""
    _, model, criterion, sample, meta = setup(tiny_data)
    model.eval()  # no dropout: plain gradients are well defined
    exact = raw_influences(model, criterion, sample, meta, "exact", lr=0.5)
    params = trainable_parameters(model)
    _, nll, _ = criterion.sentence_losses(model, meta)
    g_val = torch.autograd.grad(
        nll.sum() / meta["ntokens"], list(params.values()), allow_unused=True
    )
    task_sample = sample["pos"]
    loss, _, _ = criterion.sentence_losses(model, task_sample)
    g_1 = torch.autograd.grad(loss[1], list(params.values()), allow_unused=True)
    inner = sum(
        (a * b).sum() for a, b in zip(g_val, g_1) if a is not None and b is not None
    )
    assert exact["pos"][1].item() == pytest.approx(-0.5 * inner.item(), rel=1e-4)


@pytest.mark.parametrize(
    "flags",
    [["--aiw-mode", "fast"], ["--aiw-probe", "central"], ["--aiw-mode", "exact"]],
)
def test_parameters_stay_the_same_objects_and_shared_layers_train(tiny_data, flags):
    task, model, criterion, sample, _ = setup(tiny_data, flags)
    before = {n: p for n, p in model.named_parameters()}
    values = {n: p.detach().clone() for n, p in model.named_parameters()}
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)

    class Wrapped:
        def backward(self, loss):
            loss.backward()

        def get_lr(self):
            return 0.5

    model.zero_grad()
    task.train_step(sample, model, criterion, Wrapped(), update_num=0)
    optimizer.step()
    after = dict(model.named_parameters())
    assert all(after[n] is before[n] for n in before)
    shared = model.shared_parameter_names()
    assert all(not torch.equal(after[n].detach(), values[n]) for n in shared)
    assert all(torch.isfinite(p).all() for p in model.parameters())


@pytest.mark.parametrize(
    "raw, expected",
    [
        ({"a": [-1.0, -3.0], "b": [2.0]}, {"a": [1.25, 1.75], "b": [1.0]}),
        ({"a": [0.5, 0.0], "b": [2.0]}, {"a": [1.0, 1.0], "b": [1.0]}),  # none < 0
        ({"a": [-1.0, math.nan], "b": [-2.0]}, {"a": [1.0, 1.0], "b": [1.0]}),
        ({"a": [-1.0, math.inf], "b": [-1.0]}, {"a": [1.0, 1.0], "b": [1.0]}),
    ],
)
def test_normalise_table(raw, expected):
    estimator = InfluenceEstimator(criterion=None, mode="fast")
    weights, fell_back = estimator.normalise(
        {t: torch.tensor(v) for t, v in raw.items()}
    )
    assert {t: w.tolist() for t, w in weights.items()} == expected
    has_nonfinite = any(not math.isfinite(x) for v in raw.values() for x in v)
    assert fell_back == has_nonfinite


def test_half_precision_model_probes_in_float32(tiny_data):
    """A bf16 model's fast influences match the exact ones of its fp32 twin."""
    import copy

    _, model, criterion, sample, meta = setup(tiny_data, PAPER_SHAPED)
    half = copy.deepcopy(model).to(torch.bfloat16)
    twin = copy.deepcopy(half).float()  # the same (rounded) weights in fp32
    exact = raw_influences(twin, criterion, sample, meta, "exact")
    estimator = InfluenceEstimator(criterion, "fast")
    seeds = {task: 100 + i for i, task in enumerate(sample)}
    direction = estimator.meta_valid_gradient(half, meta, 7)
    fast = estimator.fast_influence(half, sample, seeds, direction, 0.1)
    assert all(r.dtype == torch.float32 for r in fast.values())
    assert relative_l2(fast, exact) <= 1e-2
