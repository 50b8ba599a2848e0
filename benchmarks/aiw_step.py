"""Cost of one AIW update against plain Uniform multitask training (``make bench``).

A reduced paper-shaped model (3+3 LSTM layers, top-1 encoder / bottom-2
decoder layers shared) with K = 4 tasks trains on the same synthetic batches
with four settings: Uniform, Uniform + AIW fast (forward probe, the default),
Uniform + AIW fast with ``--aiw-probe central``, Uniform + AIW exact. Each
setting runs in a fresh process so that its peak memory is its own.

Printed per setting: median update time and peak memory. Peak memory is the
resident-set high-water mark during the timed updates minus the resident set
before the model was built (so it counts parameters, gradients, optimiser
state, batches and activations, like ``torch.cuda.max_memory_allocated``, but
not the Python interpreter and imported libraries). glibc is told to serve
every allocation above 64 KiB with mmap, so freed tensors leave the resident
set at once; that slows allocation, so time is measured in a separate run
with the default allocator. Then the relative L2 error of fast against exact
raw weights on one batch (both probes), the central probe's ratios, and, as
the last two
lines, the default fast mode's ratios to Uniform.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TASKS = ["translation", "ner", "parse", "amr"]
MODEL = [
    "--arch",
    "aiw_lstm_paper",
    "--encoder-layers",
    "3",
    "--decoder-layers",
    "3",
    "--hidden-size",
    "256",
    "--embed-dim",
    "256",
    "--dropout",
    "0.3",
]
VOCAB, SENTENCES, BATCH = 2000, 256, 32
SETTINGS = {
    "uniform": [],
    "aiw_fast": ["--aiw", "--aiw-mode", "fast"],  # forward probe, the default
    "aiw_fast_central": ["--aiw", "--aiw-mode", "fast", "--aiw-probe", "central"],
    "aiw_exact": ["--aiw", "--aiw-mode", "exact"],
}


def make_data(root: Path) -> Path:
    """Random token sequences for four tasks, binarised with one dictionary."""
    import numpy as np
    import torch
    from fairseq.data import Dictionary, indexed_dataset

    rng = np.random.default_rng(0)
    dictionary = Dictionary()
    for i in range(VOCAB):
        dictionary.add_symbol(f"w{i}")
    for task in TASKS:
        folder = root / task
        folder.mkdir(parents=True)
        src, tgt = "en", task[:3]
        for lang in (src, tgt):
            dictionary.save(str(folder / f"dict.{lang}.txt"))
        splits = ["train", "meta_valid"] if task == "translation" else ["train"]
        for split in splits:
            for lang in (src, tgt):
                prefix = str(folder / f"{split}.{src}-{tgt}.{lang}")
                builder = indexed_dataset.make_builder(
                    prefix + ".bin", impl="mmap", vocab_size=len(dictionary)
                )
                for _ in range(SENTENCES):
                    n = int(rng.integers(15, 35))
                    ids = rng.integers(dictionary.nspecial, len(dictionary), n)
                    builder.add_item(torch.tensor([*ids, dictionary.eos()]))
                builder.finalize(prefix + ".idx")
    return root


def rss_kib(field: str = "VmRSS") -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


class PlainOptimizer:
    """What ``task.train_step`` asks of fairseq's optimiser."""

    def __init__(self, params):
        import torch

        self.inner = torch.optim.Adam(params, lr=1e-3)

    def backward(self, loss):
        loss.backward()

    def get_lr(self):
        return self.inner.param_groups[0]["lr"]


def build(data: Path, extra):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from helpers import build_components

    task, model, criterion, _ = build_components(
        data, ["--aux-tasks", ",".join(TASKS[1:]), *MODEL, "--seed", "1", *extra]
    )
    task.load_dataset("train")
    itr = task.get_batch_iterator(
        task.dataset("train"), max_sentences=BATCH, max_positions=(1024, 1024), seed=1
    )
    batches = list(itr.next_epoch_itr(shuffle=False))
    return task, model, criterion, batches


def worker(data: Path, setting: str, updates: int, measure: str) -> dict:
    import torch

    torch.manual_seed(1)
    extra = SETTINGS[setting]
    base = rss_kib()
    task, model, criterion, batches = build(data, extra)
    optimizer = PlainOptimizer(model.parameters())
    model.train()
    Path("/proc/self/clear_refs").write_text("5")  # reset the high-water mark
    times = []
    for i in range(updates + 2):
        start = time.perf_counter()
        optimizer.inner.zero_grad()
        task.train_step(batches[i % len(batches)], model, criterion, optimizer, i)
        optimizer.inner.step()
        times.append(time.perf_counter() - start)
    if measure == "time":
        return {"time": statistics.median(times[2:])}  # two warm-up updates
    return {"memory_mib": (rss_kib("VmHWM") - base) / 1024}


def fast_vs_exact_errors(data: Path) -> dict:
    """Relative L2 error of both fast probes against the exact raw weights."""
    import torch

    from fairseq_aiw.weighting import InfluenceEstimator

    torch.manual_seed(1)
    task, model, criterion, batches = build(data, ["--aiw"])
    model.train()
    sample = batches[0]
    meta = task._next_meta_valid_batch(sample)
    seeds = {t: 10 + i for i, t in enumerate(sample)}
    estimator = InfluenceEstimator(criterion, "exact")
    exact, _ = estimator.exact_influence(model, sample, seeds, meta, 3, 1e-3)
    direction = estimator.meta_valid_gradient(model, meta, 3)
    base = {}
    for t, s in sample.items():
        torch.manual_seed(seeds[t])
        base[t] = criterion.sentence_losses(model, s)[0]
    errors = {}
    for probe, losses in (("forward", base), ("central", None)):
        fast = estimator.fast_influence(model, sample, seeds, direction, 1e-3, losses)
        a = torch.cat([fast[t] for t in TASKS]).double()
        b = torch.cat([exact[t] for t in TASKS]).double()
        errors[probe] = ((a - b).norm() / b.norm()).item()
    return errors


def run_worker(data: Path, setting: str, updates: int, measure: str) -> dict:
    env = dict(os.environ)
    if measure == "memory":  # slows allocation down: never while timing
        env["MALLOC_MMAP_THRESHOLD_"] = "65536"
    proc = subprocess.run(
        [
            sys.executable,
            __file__,
            "--worker",
            setting,
            "--data",
            str(data),
            "--updates",
            str(updates),
            "--measure",
            measure,
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{setting} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--updates", type=int, default=10, help="timed updates")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "error":
        print(json.dumps(fast_vs_exact_errors(Path(args.data))))
        return
    if args.worker:
        print(
            json.dumps(worker(Path(args.data), args.worker, args.updates, args.measure))
        )
        return
    with tempfile.TemporaryDirectory() as tmp:
        data = make_data(Path(tmp) / "bin")
        print(
            f"model: {' '.join(MODEL)}; K={len(TASKS)} tasks; "
            f"{BATCH} sentences per task batch; {args.updates} timed updates"
        )
        results = {}
        for setting in SETTINGS:
            results[setting] = {
                **run_worker(data, setting, args.updates, "time"),
                **run_worker(data, setting, 2, "memory"),
            }
        errors = run_worker(data, "error", 0, "error")
    print(f"{'setting':<17} {'median update (s)':>18} {'peak memory (MiB)':>18}")
    for name, r in results.items():
        print(f"{name:<17} {r['time']:>18.3f} {r['memory_mib']:>18.1f}")
    for probe, error in errors.items():
        print(
            f"fast ({probe} probe) vs exact raw weights, relative L2 error: {error:.2e}"
        )
    central = results["aiw_fast_central"]
    print(
        f"aiw_fast_central/uniform time ratio: "
        f"{central['time'] / results['uniform']['time']:.2f}, memory ratio: "
        f"{central['memory_mib'] / results['uniform']['memory_mib']:.2f}"
    )
    fast, uniform = results["aiw_fast"], results["uniform"]
    print(f"aiw_fast/uniform time ratio: {fast['time'] / uniform['time']:.2f}")
    print(
        f"aiw_fast/uniform memory ratio: "
        f"{fast['memory_mib'] / uniform['memory_mib']:.2f}"
    )


if __name__ == "__main__":
    main()
