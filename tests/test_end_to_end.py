"""fairseq-train and fairseq-generate on a slice of the shipped demo corpus."""

import re

import pytest
import torch
from helpers import PLUGIN_FLAGS, REPO, run_cli

from fairseq_aiw.analysis.scoring import read_generate_output, score

TRAIN_FLAGS = [
    *PLUGIN_FLAGS,
    "--optimizer",
    "adam",
    "--lr",
    "0.005",
    "--batch-size",
    "16",
    "--cpu",
    "--seed",
    "1",
    "--no-progress-bar",
    "--log-format",
    "simple",
    "--log-interval",
    "1",
    "--no-epoch-checkpoints",
]


def train(data, save_dir, *extra):
    return run_cli(
        "fairseq_cli.train",
        [data / "bin", *TRAIN_FLAGS, "--save-dir", save_dir, *extra],
    )


@pytest.mark.parametrize(
    "schedule, extra, tasks_seen",
    [
        ("main_only", [], {"translation"}),
        ("uniform", [], {"translation", "pos"}),
        ("biased", [], {"translation", "pos"}),
        ("constant", [], {"translation", "pos"}),
        ("exponential", [], {"pos"}),  # P_main(t) = 1 - exp(-t/2) is ~0 at first
        ("sigmoid", [], {"translation", "pos"}),
        ("uniform", ["--aiw", "--aiw-log-interval", "2"], {"translation", "pos"}),
    ],
)
def test_train_then_decode_and_score(demo_slice, tmp_path, schedule, extra, tasks_seen):
    log = train(
        demo_slice,
        tmp_path,
        "--aux-tasks",
        "pos",
        "--schedule",
        schedule,
        "--max-update",
        "6",
        *extra,
    )
    assert "num_updates=6" in log or "num_updates 6" in log
    final = [line for line in log.splitlines() if "| train |" in line][-1]
    seen = {t for t in ("translation", "pos") if f"{t}:loss" in final}
    if schedule in ("main_only", "uniform", "biased"):
        assert seen == tasks_seen
    else:
        assert tasks_seen <= seen
    if "--aiw" in extra:
        assert re.search(r"translation:aiw [0-9.]+", final)
        rows = (tmp_path / "aiw_weights.tsv").read_text().splitlines()
        cells = [row.split("\t") for row in rows[1:]]
        assert [(c[0], c[1], c[4]) for c in cells] == [
            (u, t, "32") for u in ("2", "4") for t in ("translation", "pos")
        ]
        # 1 + w averaged: the w of one update sum to 1 over its 32 sentences
        chunk = [c for c in cells if c[0] == "2"]
        total = sum(float(c[2]) * 32 for c in chunk)
        assert total == pytest.approx(64 + 2, rel=1e-4)

    out = run_cli(
        "fairseq_cli.generate",
        [
            demo_slice / "bin",
            "--user-dir",
            REPO / "fairseq_aiw",
            "--task",
            "aiw_mtl",
            "--path",
            tmp_path / "checkpoint_last.pt",
            "--gen-subset",
            "test",
            "--beam",
            "2",
            "--batch-size",
            "16",
            "--max-len-b",
            "30",
            "--cpu",
            "--post-process",
            "sentencepiece",
        ],
    )
    gen = tmp_path / "generate-test.txt"
    gen.write_text(out)
    ids, hyps, refs = read_generate_output(gen)
    assert ids == list(range(30))
    result = score(hyps, refs)
    assert 0.0 <= result["bleu"] <= 100.0
    assert result["bleu_signature"].startswith("nrefs:1")


@pytest.mark.parametrize("extra", [["--schedule", "sigmoid"], ["--aiw"]])
def test_resume_continues_exactly(demo_slice, tmp_path, extra):
    flags = ["--aux-tasks", "pos", "--save-interval-updates", "5", *extra]
    train(demo_slice, tmp_path / "straight", *flags, "--max-update", "10")
    train(demo_slice, tmp_path / "resumed", *flags, "--max-update", "5")
    log = train(demo_slice, tmp_path / "resumed", *flags, "--max-update", "10")
    assert "Loaded checkpoint" in log and "(epoch 1 @ 5 updates)" in log
    a = torch.load(tmp_path / "straight" / "checkpoint_last.pt", weights_only=False)
    b = torch.load(tmp_path / "resumed" / "checkpoint_last.pt", weights_only=False)
    assert a["optimizer_history"][-1]["num_updates"] == 10
    for name, tensor in a["model"].items():
        assert torch.allclose(tensor, b["model"][name], atol=1e-6), name
