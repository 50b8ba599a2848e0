"""AIW updates on fixed batches, data-parallel or on one process (for test_ddp.py).

    torchrun --nproc_per_node 2 tests/ddp_aiw_worker.py DATA OUT ddp
    python tests/ddp_aiw_worker.py DATA OUT single

In ``ddp`` mode rank r trains on its half of every batch; in ``single`` mode
one process trains on both halves at once. Each run saves the final AIW
weights of every update and the final parameters to OUT (rank 0 only).
"""

import sys
from pathlib import Path

import torch
import torch.distributed as dist

sys.path.insert(0, str(Path(__file__).parent))

from helpers import build_components  # noqa: E402

UPDATES, HALF = 3, 6


def half_ids(update: int, rank: int, size: int):
    start = (update * 2 * HALF + rank * HALF) % (size - HALF)
    return list(range(start, start + HALF))


def collate(dataset, ids):
    return dataset.collater([dataset[i] for i in ids])


class PlainOptimizer:
    """The two methods of fairseq's optimiser that ``train_step`` uses."""

    def backward(self, loss):
        loss.backward()

    def get_lr(self):
        return 0.1


def main(data: str, out: str, mode: str) -> None:
    distributed = mode == "ddp"
    if distributed:
        dist.init_process_group("gloo")
    rank = dist.get_rank() if distributed else 0
    torch.manual_seed(1)
    task, model, criterion, _ = build_components(
        Path(data), ["--aux-tasks", "pos", "--aiw", "--dropout", "0", "--seed", "1"]
    )
    task.load_dataset("train")
    task.load_dataset("meta_valid")
    train_sets = task.dataset("train").datasets
    meta_set = task.dataset("meta_valid")
    wrapped = model
    if distributed:
        from fairseq.distributed import (
            LegacyDistributedDataParallel,
            ModuleProxyWrapper,
        )

        wrapped = ModuleProxyWrapper(LegacyDistributedDataParallel(model, None))
    halves = [rank] if distributed else [0, 1]

    recorded = []
    estimator = task._estimator(criterion)
    estimator.normalise = record(estimator.normalise, recorded)
    for update in range(UPDATES):

        def ids(size, u=update):
            return [i for r in halves for i in half_ids(u, r, size)]

        sample = {t: collate(ds, ids(len(ds))) for t, ds in train_sets.items()}
        meta = collate(meta_set, ids(len(meta_set)))
        task._next_meta_valid_batch = lambda like, m=meta: m
        model.zero_grad()
        _, sample_size, _ = task.train_step(
            sample, wrapped, criterion, PlainOptimizer(), update
        )
        # the collater sorts by source length: key the weights by sentence id
        recorded[-1] = {
            t: dict(zip(sample[t]["id"].tolist(), w.tolist()))
            for t, w in recorded[-1].items()
        }
        scale = 1.0
        total = torch.tensor(float(sample_size))
        if distributed:
            wrapped.all_reduce_grads()  # averages over the 2 workers
            dist.all_reduce(total)
            scale = 2.0
        with torch.no_grad():
            for p in model.parameters():
                if p.grad is not None:
                    p -= 0.1 * p.grad * scale / total
    weights = recorded
    if distributed:
        gathered = [None, None]
        dist.all_gather_object(gathered, weights)
        weights = gathered
    if rank == 0:
        params = {n: p.detach().clone() for n, p in model.named_parameters()}
        torch.save({"weights": weights, "params": params}, out)
    if distributed:
        dist.destroy_process_group()


def record(normalise, into):
    def wrapper(raw):
        weights, fell_back = normalise(raw)
        into.append(weights)
        return weights, fell_back

    return wrapper


if __name__ == "__main__":
    main(*sys.argv[1:4])
