"""Tiny synthetic multitask data sets and fairseq command runners for the tests."""

import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Sequence

REPO = Path(__file__).resolve().parents[1]
# what every training command of the tests loads: the plugin, tiny model
PLUGIN_FLAGS = [
    "--user-dir",
    str(REPO / "fairseq_aiw"),
    "--task",
    "aiw_mtl",
    "--arch",
    "aiw_lstm_tiny",
    "--criterion",
    "aiw_cross_entropy",
]
WORDS = "the a cat dog sees eats big small red blue house tree runs sleeps".split()
TAGS = {
    w: (
        "DT"
        if w in ("the", "a")
        else "NN"
        if w in "cat dog house tree".split()
        else "JJ"
        if w in "big small red blue".split()
        else "VB"
    )
    for w in WORDS
}


def synthetic_corpus(n: int, seed: int) -> Dict[str, List[str]]:
    """Sentences of a toy language and their toy translation and POS tags.

    The "translation" reverses the sentence and upper-cases every word, so a
    model can learn it quickly and a POS task shares its source vocabulary.
    """
    rng = random.Random(seed)
    src, tgt, pos = [], [], []
    for _ in range(n):
        words = [rng.choice(WORDS) for _ in range(rng.randint(3, 8))]
        src.append(" ".join(words))
        tgt.append(" ".join(w.upper() for w in reversed(words)))
        pos.append(" ".join(TAGS[w] for w in words))
    return {"src": src, "tgt": tgt, "pos": pos}


def write_lines(path: Path, lines: Sequence[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines))


def build_tiny_data(root: Path, sizes=None) -> Path:
    """Raw text and fairseq binaries for tasks ``translation`` and ``pos``.

    Returns:
        The data-bin directory (``root/bin``) laid out as ``aiw_mtl`` expects.
    """
    sizes = sizes or {"train": 200, "valid": 30, "meta_valid": 20, "test": 20}
    raw, out = root / "raw", root / "bin"
    for i, (split, n) in enumerate(sizes.items()):
        corpus = synthetic_corpus(n, seed=i)
        write_lines(raw / "translation" / f"{split}.en", corpus["src"])
        write_lines(raw / "translation" / f"{split}.xx", corpus["tgt"])
        if split == "train":
            pos = synthetic_corpus(300, seed=99)
            write_lines(raw / "pos" / "train.en", pos["src"])
            write_lines(raw / "pos" / "train.pos", pos["pos"])
    vocab = sorted({w for f in raw.rglob("*.*") for w in f.read_text().split()})
    (root / "dict.txt").write_text("".join(f"{w} 1\n" for w in vocab))
    for task, (src, tgt), splits in [
        ("translation", ("en", "xx"), list(sizes)),
        ("pos", ("en", "pos"), ["train"]),
    ]:
        prefixes = {
            "train": "--trainpref",
            "valid": "--validpref",
            "test": "--testpref",
        }
        args = [
            "--source-lang",
            src,
            "--target-lang",
            tgt,
            "--srcdict",
            str(root / "dict.txt"),
            "--tgtdict",
            str(root / "dict.txt"),
            "--destdir",
            str(out / task),
            "--workers",
            "1",
        ]
        for split in splits:
            if split in prefixes:
                args += [prefixes[split], str(raw / task / split)]
        run_cli("fairseq_cli.preprocess", args)
        if "meta_valid" in splits:
            # fairseq-preprocess knows train/valid/test only: binarise the
            # meta-valid split as "test" in a side folder and rename it.
            side = root / "side"
            run_cli(
                "fairseq_cli.preprocess",
                args[:8]
                + [
                    "--destdir",
                    str(side),
                    "--workers",
                    "1",
                    "--testpref",
                    str(raw / task / "meta_valid"),
                ],
            )
            for f in side.glob("test.*"):
                f.rename(out / task / f.name.replace("test.", "meta_valid.", 1))
    return out


def run_cli(module: str, args: Sequence[str], env_extra=None) -> str:
    """Run ``python -m module args`` and return its combined output."""
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    env.update(env_extra or {})
    proc = subprocess.run(
        [sys.executable, "-m", module, *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=str(REPO),
    )
    output = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise RuntimeError(f"{module} failed ({proc.returncode}):\n{output[-4000:]}")
    return output


def build_components(data: Path, extra: Sequence[str] = ()):
    """Task, model and criterion exactly as ``fairseq-train`` would build them."""
    from fairseq import options, tasks
    from fairseq.dataclass.utils import convert_namespace_to_omegaconf

    parser = options.get_training_parser()
    argv = [
        str(data),
        *PLUGIN_FLAGS,
        "--optimizer",
        "sgd",
        "--lr",
        "0.1",
        "--cpu",
        *extra,
    ]
    args = options.parse_args_and_arch(parser, argv)
    cfg = convert_namespace_to_omegaconf(args)
    task = tasks.setup_task(cfg.task)
    model = task.build_model(cfg.model)
    criterion = task.build_criterion(cfg.criterion)
    return task, model, criterion, cfg
