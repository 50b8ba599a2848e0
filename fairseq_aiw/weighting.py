"""Adaptive Importance Weights (AIW): the influence of each training sentence.

At every update each training sentence ``i`` of the multitask mini-batch gets a
weight from its influence on the main task's meta-validation loss after a
one-step SGD lookahead (Zaremoodi & Haffari 2019, Algorithm 1)::

    theta_hat(eps) = theta - lr * grad_theta sum_i eps_i * l_i(theta)
    raw_i          = d L_metavalid(theta_hat(eps)) / d eps_i      at eps = 0
    w_i            = relu(-raw_i) / sum_j relu(-raw_j)            (whole batch)
    update with      sum_i (1 + w_i) * l_i

Two ways to get ``raw`` are implemented:

* ``exact``: Algorithm 1 as written, a functional lookahead and a double
  backward through it. The reference; single process only.
* ``fast``: at ``eps = 0`` the lookahead is the identity, so
  ``raw_i = -lr * <v, grad l_i(theta)>`` with ``v = grad L_metavalid(theta)``,
  exactly. ``v`` costs one meta-valid backward; each inner product is the
  directional derivative of ``l_i`` along ``v``, a finite difference of
  no-grad forwards ("probes") run from the seed of the task's training
  forward, so that all of them see the same dropout masks. Either one probe
  at ``theta + h v`` against the training forward's own losses (forward
  difference; every task's graph is kept until the weights are known), or
  two probes at ``theta +- h v`` before any training forward (central
  difference; the training forwards and weighted backwards then run task by
  task, so one graph is alive at a time).

Half-precision models (fairseq ``--fp16``/``--bf16``): a step ``h v`` would
vanish in half-precision rounding, so the probes run on float32 copies of the
weights (``theta +- h v`` computed in float32) and the losses are compared in
float32. The meta-valid gradient itself is taken on the model as it is.

This module knows nothing of fairseq's task or trainer: it receives per-task
mini-batches, a criterion with ``sentence_losses``, and callbacks for the
backward pass and for summing across data-parallel workers.
"""

import contextlib
import logging
import math
from typing import Callable, Dict, Optional, Tuple

import torch
from torch import Tensor, nn
from torch.func import functional_call

logger = logging.getLogger(__name__)

AllReduce = Callable[[Tensor], Tensor]

# Relative size of the finite-difference step, ||h v|| = STEP * ||theta||, per
# difference scheme. The error is O(h) (forward) or O(h^2) (central) from
# curvature plus O(eps / h) from float32 rounding of the losses; these sit at
# the bottom of that trade-off on the test models (relative error against the
# exact mode ~5e-4 forward, ~2e-5 central; ten times larger or smaller steps
# are several times worse).
FORWARD_STEP = 1e-4
CENTRAL_STEP = 1e-3


def unwrap(model: nn.Module) -> nn.Module:
    """The model under fairseq's data-parallel and proxy wrappers."""
    while hasattr(model, "module"):
        model = model.module
    return model


def trainable_parameters(model: nn.Module) -> Dict[str, nn.Parameter]:
    """Each trainable parameter once, under its first name.

    Shared layers are reachable under several names; ``named_parameters`` lists
    each once, which is what :func:`torch.func.functional_call` needs with
    ``tie_weights=False`` to substitute a shared tensor everywhere it is used.
    """
    return {n: p for n, p in model.named_parameters() if p.requires_grad}


class FunctionalModel:
    """Calls a module with some parameters replaced, leaving the module as it was.

    ``tie_weights=False`` matters: with the default, torch 2.13 can leave the
    substitute tensors installed on modules reachable under several names
    (pytorch/pytorch#164759), so shared layers would silently stop training.
    """

    def __init__(self, module: nn.Module, params: Dict[str, Tensor]):
        self.module, self.params = module, params

    def __call__(self, *args, **kwargs):
        return functional_call(
            self.module, self.params, args, kwargs, tie_weights=False, strict=False
        )

    def get_normalized_probs(self, net_output, log_probs, sample=None):
        return self.module.get_normalized_probs(net_output, log_probs, sample)


def seed_all(seed: int) -> None:
    """Seed the global generators so a forward pass sees fixed dropout masks."""
    torch.manual_seed(seed)


@contextlib.contextmanager
def cudnn_disabled():
    """cuDNN RNN kernels have no double backward; the exact mode avoids them."""
    with torch.backends.cudnn.flags(enabled=False):
        yield


class InfluenceEstimator:
    """Computes raw AIW influences, normalised weights and the weighted loss.

    Args:
        criterion: provides ``sentence_losses(model, sample) -> (loss, nll, _)``.
        mode: ``"fast"`` or ``"exact"``.
        all_reduce: sums a tensor over data-parallel workers (identity when
            training on one process).
    """

    def __init__(self, criterion, mode: str, all_reduce: Optional[AllReduce] = None):
        if mode not in ("fast", "exact"):
            raise ValueError(f"--aiw-mode {mode!r} is unknown; use fast or exact")
        self.criterion = criterion
        self.mode = mode
        self.all_reduce = all_reduce or (lambda t: t)
        self._warned_cudnn = False

    # -- step 2 (fast): gradient of the meta-validation loss ---------------------

    def meta_valid_gradient(
        self, model: nn.Module, meta_sample: dict, seed: int
    ) -> Dict[str, Tensor]:
        """Gradient of the token-averaged meta-valid NLL over all workers.

        Returns:
            Detached gradients for the parameters the main task uses; summed
            over workers and divided by the workers' total target tokens.
        """
        params = trainable_parameters(model)
        seed_all(seed)
        _, nll, _ = self.criterion.sentence_losses(model, meta_sample)
        grads = torch.autograd.grad(nll.sum(), list(params.values()), allow_unused=True)
        ntokens = self.all_reduce(nll.new_tensor(float(meta_sample["ntokens"])))
        direction = {}
        for (name, _), grad in zip(params.items(), grads):
            if grad is not None:
                direction[name] = self.all_reduce(grad.detach()) / ntokens
        return direction

    # -- step 3 (fast): directional derivatives by finite differences ----------

    def fast_influence(
        self,
        model: nn.Module,
        samples: Dict[str, dict],
        seeds: Dict[str, int],
        direction: Dict[str, Tensor],
        lr: float,
        base_losses: Optional[Dict[str, Tensor]] = None,
    ) -> Dict[str, Tensor]:
        """``raw_i = -lr * <v, grad l_i>`` for every sentence of every task.

        ``<v, grad l_i>`` is a finite difference of no-grad forwards run from the
        task's seed, so they see the dropout masks of its training forward:

        * with ``base_losses`` (the training forward's sentence losses, float32
          model): forward difference ``(l_i(theta + h v) - l_i(theta)) / h``,
          one probe per task;
        * otherwise: central difference ``(l_i(theta + h v) - l_i(theta - h v))
          / 2h``, two probes per task, no training forward needed beforehand.

        Only parameters in ``v`` are shifted, one shifted copy at a time.

        Args:
            model: the unwrapped model, in training mode.
            samples: per-task mini-batches.
            seeds: the seed each task's training forward is run from.
            direction: ``v``, the meta-valid gradient.
            lr: lookahead learning rate.
            base_losses: sentence losses at ``theta`` (B per task), if known.

        Returns:
            Detached float32 raw influences, B per task.
        """
        params = trainable_parameters(model)
        half = any(p.dtype != torch.float32 for p in params.values())
        forward = base_losses is not None and not half
        h = self._step_size(
            params, direction, FORWARD_STEP if forward else CENTRAL_STEP
        )
        raw = {}
        with torch.no_grad():
            for task, sample in samples.items():
                seed = seeds[task]
                upper = self._probe(model, params, direction, h, half, sample, seed)
                if forward:
                    lower, span = base_losses[task].detach().float(), h
                else:
                    lower = self._probe(
                        model, params, direction, -h, half, sample, seed
                    )
                    span = 2 * h
                raw[task] = -lr * (upper - lower) / span
        return raw

    @staticmethod
    def _step_size(params, direction, relative: float) -> float:
        """``h`` such that ``||h v|| = relative * max(||theta_v||, 1)``."""
        # one host sync each, not one per parameter
        theta = torch.stack(
            [params[n].detach().float().pow(2).sum() for n in direction]
        )
        theta = theta.sum().item()
        v = torch.stack([d.float().pow(2).sum() for d in direction.values()])
        v = v.sum().item()
        if v == 0.0 or not math.isfinite(v):
            return 1.0
        return relative * max(math.sqrt(theta), 1.0) / math.sqrt(v)

    def _probe(self, model, params, direction, h, full_precision, sample, seed):
        """Sentence losses at ``theta + h v`` (float32 weights if asked)."""
        shifted = {}
        for name, p in params.items():
            base = p.detach().float() if full_precision else p.detach()
            if name in direction:
                shifted[name] = base + h * direction[name].to(base.dtype)
            elif full_precision:
                shifted[name] = base
        seed_all(seed)
        loss, _, _ = self.criterion.sentence_losses(
            FunctionalModel(model, shifted), sample
        )
        return loss.float()

    # -- step 3 (exact): Algorithm 1 with a double backward ----------------------

    def exact_influence(
        self,
        model: nn.Module,
        samples: Dict[str, dict],
        seeds: Dict[str, int],
        meta_sample: dict,
        meta_seed: int,
        lr: float,
    ) -> Tuple[Dict[str, Tensor], Dict[str, Tensor]]:
        """Raw influences by differentiating through a functional lookahead.

        Returns:
            ``(raw, train_losses)``: detached raw influences and, per task, the
            sentence ``(loss, nll_loss)`` at ``theta`` (with graph, reusable for
            the weighted update).
        """
        if not self._warned_cudnn and torch.cuda.is_available():
            logger.info("AIW exact mode: cuDNN is disabled inside the lookahead")
            self._warned_cudnn = True
        params = trainable_parameters(model)
        with cudnn_disabled():
            losses = {}
            for task, sample in samples.items():
                seed_all(seeds[task])
                losses[task] = self.criterion.sentence_losses(model, sample)[:2]
            flat = torch.cat([losses[t][0] for t in samples])
            eps = torch.zeros_like(flat, requires_grad=True)
            grads = torch.autograd.grad(
                (eps * flat).sum(),
                list(params.values()),
                create_graph=True,
                allow_unused=True,
            )
            lookahead = {
                n: p - lr * g
                for (n, p), g in zip(params.items(), grads)
                if g is not None
            }
            seed_all(meta_seed)
            _, nll, _ = self.criterion.sentence_losses(
                FunctionalModel(model, lookahead), meta_sample
            )
            meta_loss = nll.sum() / meta_sample["ntokens"]
            (d_eps,) = torch.autograd.grad(meta_loss, eps)
        sizes = [len(losses[t][0]) for t in samples]
        raw = dict(zip(samples, d_eps.detach().split(sizes)))
        return raw, losses

    # -- step 4: normalise ------------------------------------------------------

    def normalise(self, raw: Dict[str, Tensor]) -> Tuple[Dict[str, Tensor], bool]:
        """Final weights ``1 + relu(-raw_i) / sum_j relu(-raw_j)``.

        The sum runs over the whole multitask batch of every worker. If any raw
        influence on any worker is not finite, every weight is 1.

        Returns:
            ``(weights, fell_back)``: detached weights per task, and whether the
            update fell back to weights 1.
        """
        flat = torch.cat([r.float() for r in raw.values()])
        finite = torch.isfinite(flat)
        positive = torch.relu(-torch.where(finite, flat, torch.zeros_like(flat)))
        stats = torch.stack([positive.sum(), (~finite).sum().float()])
        total, nonfinite = self.all_reduce(stats).tolist()
        if nonfinite > 0:
            weights = torch.ones_like(flat)
        elif total > 0:
            weights = 1.0 + positive / total
        else:
            weights = torch.ones_like(flat)
        sizes = [len(r) for r in raw.values()]
        return dict(zip(raw, weights.split(sizes))), nonfinite > 0


def weight_stats(weights: Dict[str, Tensor]) -> Dict[str, float]:
    """Logging values per task: sum of weights, count at exactly 1, count."""
    out: Dict[str, float] = {}
    for task, w in weights.items():
        out[f"{task}:aiw"] = w.sum().item()
        out[f"{task}:aiw_zero"] = (w == 1.0).sum().item()
        out[f"{task}:aiw_n"] = float(len(w))
    return out
