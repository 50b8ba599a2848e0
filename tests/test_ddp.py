"""AIW under fairseq's legacy DDP on 2 CPU ranks equals one process on the union."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from helpers import REPO

WORKER = Path(__file__).parent / "ddp_aiw_worker.py"


def run(args, env):
    proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


@pytest.mark.skipif(
    shutil.which("torchrun") is None
    and not Path(sys.executable).with_name("torchrun").exists(),
    reason="torchrun not installed",
)
def test_two_ranks_match_one_process(tiny_data, tmp_path):
    import os

    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    torchrun = str(Path(sys.executable).with_name("torchrun"))
    run(
        [
            torchrun,
            "--nproc_per_node",
            "2",
            "--master_port",
            "29731",
            str(WORKER),
            str(tiny_data),
            str(tmp_path / "ddp.pt"),
            "ddp",
        ],
        env,
    )
    run(
        [
            sys.executable,
            str(WORKER),
            str(tiny_data),
            str(tmp_path / "single.pt"),
            "single",
        ],
        env,
    )
    ddp = torch.load(tmp_path / "ddp.pt", weights_only=False)
    single = torch.load(tmp_path / "single.pt", weights_only=False)

    rank0, rank1 = ddp["weights"]
    assert len(single["weights"]) == len(rank0) == 3
    for update, union in enumerate(single["weights"]):
        for task, weights in union.items():
            joined = {**rank0[update][task], **rank1[update][task]}
            assert joined.keys() == weights.keys()
            for sentence, weight in weights.items():
                assert joined[sentence] == pytest.approx(weight, rel=1e-3), (
                    update,
                    task,
                )
        assert any(w > 1.0 for ws in union.values() for w in ws.values())
    for name, value in single["params"].items():
        assert torch.allclose(ddp["params"][name], value, atol=1e-5), name
