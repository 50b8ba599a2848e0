"""End-to-end tests of data-prep/prepare.sh, offline, on the hand-written fixtures."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from .prepare_fixtures import AMR, FIXTURES, PTB, make_offline_dir

PREPARE = Path(__file__).resolve().parents[2] / "data-prep" / "prepare.sh"
TASKS = {"translation": "vi", "ner": "ner", "parse": "parse", "amr": "amr"}
SPLITS = {  # task -> split -> pairs, from the fixtures
    "translation": {"train": 11, "valid": 6, "meta_valid": 3, "test": 4},
    "ner": {"train": 4, "valid": 1, "test": 1},
    "parse": {"train": 4, "valid": 1, "test": 1},
    "amr": {"train": 4, "valid": 1, "test": 1},
}


def prepare(*args, cwd: Path) -> subprocess.CompletedProcess:
    """Runs prepare.sh with this Python; returns the finished process."""
    env = {**os.environ, "PYTHON": sys.executable}
    for name in ("WORK_DIR", "DEST_DIR", "PTB", "AMR", "CONLL", "OFFLINE", "SOURCES"):
        env.pop(name, None)
    return subprocess.run(
        ["bash", str(PREPARE), *map(str, args)],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def snapshot(root: Path) -> dict[str, int]:
    """Maps every file and folder under ``root`` to its mtime."""
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in root.rglob("*")}


@pytest.fixture(scope="module")
def offline(tmp_path_factory) -> tuple[Path, Path]:
    return make_offline_dir(tmp_path_factory.mktemp("dl") / "offline")


@pytest.fixture(scope="module")
def en_vi(offline, tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess]:
    """The full en-vi run with every auxiliary task."""
    work = tmp_path_factory.mktemp("en-vi") / "work"
    folder, sources = offline
    done = prepare(
        "en-vi", "--offline", folder, "--sources", sources, "--work-dir", work,
        "--ptb", PTB, "--amr", AMR, "--vocab-size", 300, cwd=work.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return work, done


def test_every_task_and_split_binarised_with_one_dictionary(en_vi):
    work, done = en_vi
    dest = work / "data-bin"
    assert (dest / "tasks.txt").read_text() == "translation,ner,parse,amr\n"
    dictionary = (dest / "dict.txt").read_bytes()
    for task, tgt in TASKS.items():
        for split, size in SPLITS[task].items():
            for lang in ("en", tgt):
                raw = (work / "raw" / task / f"{split}.{lang}").read_text()
                assert len(raw.splitlines()) == size, (task, split, lang)
                for ext in ("bin", "idx"):
                    assert (dest / task / f"{split}.en-{tgt}.{lang}.{ext}").is_file()
        for lang in ("en", tgt):
            assert (dest / task / f"dict.{lang}.txt").read_bytes() == dictionary
    assert "--aux-tasks ner,parse,amr" in done.stderr


@pytest.mark.parametrize(
    "task, lang", [("translation", "vi"), ("parse", "parse"), ("amr", "amr"),
                   ("ner", "en")],
)  # fmt: skip
def test_binarised_text_decodes_to_raw(en_vi, task, lang):
    import sentencepiece as spm
    from fairseq.data import Dictionary, data_utils

    work, _ = en_vi
    dest = work / "data-bin"
    dictionary = Dictionary.load(str(dest / "dict.txt"))
    processor = spm.SentencePieceProcessor(model_file=str(dest / "spm.model"))
    for split in SPLITS[task]:
        dataset = data_utils.load_indexed_dataset(
            str(dest / task / f"{split}.en-{TASKS[task]}.{lang}"), dictionary
        )
        lines = (work / "raw" / task / f"{split}.{lang}").read_text().splitlines()
        assert len(dataset) == len(lines)
        if split == "train":  # held-out pieces may be missing from the dictionary
            pieces = [dictionary.string(tokens).split() for tokens in dataset]
            assert [processor.decode_pieces(p) for p in pieces] == lines


def test_second_run_changes_nothing(en_vi, offline):
    work, _ = en_vi
    folder, sources = offline
    before = snapshot(work)
    done = prepare(
        "en-vi", "--offline", folder, "--sources", sources, "--work-dir", work,
        "--ptb", PTB, "--amr", AMR, "--vocab-size", 300, cwd=work.parent,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert snapshot(work) == before
    for step in ("fetch", "translation en-vi", "ner", "parse", "amr", "binarize"):
        assert f"prepare.sh: skip {step}" in done.stderr
    assert "step " not in done.stderr


def test_other_task_set_is_refused(en_vi, offline):
    work, _ = en_vi
    folder, sources = offline
    done = prepare(
        "en-vi", "--offline", folder, "--sources", sources, "--work-dir", work,
        "--ptb", PTB, cwd=work.parent,
    )  # fmt: skip
    assert done.returncode == 1
    assert "warning: no --amr" in done.stderr
    assert f"{work}/raw/amr is from an earlier run with another task set" in done.stderr


def test_dest_of_other_tasks_is_refused(offline, tmp_path):
    folder, sources = offline
    dest = tmp_path / "bin"
    dest.mkdir()
    (dest / "tasks.txt").write_text("translation,ner,parse\n")
    done = prepare(
        "en-tr", "--offline", folder, "--sources", sources, "--work-dir",
        tmp_path / "work", "--dest", dest, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1
    assert f"{dest} was built for tasks translation,ner,parse, not translation,ner" in (
        done.stderr
    )
    assert not (tmp_path / "work").exists()


@pytest.mark.parametrize(
    "pair, tgt, sizes, extra, groups",
    [("en-tr", "tr", {"train": 5, "valid": 5, "meta_valid": 2, "test": 3}, [],
      "en-tr ner"),
     ("en-es", "es", {"train": 7, "valid": 2, "meta_valid": 3, "test": 3},
      ["--europarl-pairs", 9, "--conll", FIXTURES / "conll2003"], "en-es")],
)  # fmt: skip
def test_raw_only_other_pairs(offline, tmp_path, pair, tgt, sizes, extra, groups):
    folder, sources = offline
    work = tmp_path / "work"
    done = prepare(
        pair, "--offline", folder, "--sources", sources, "--work-dir", work,
        "--raw-only", *extra, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"prepare.sh: step fetch {groups}\n" in done.stderr
    assert "skipping the parse task" in done.stderr
    assert "skipping the amr task" in done.stderr
    assert sorted(p.name for p in (work / "raw").iterdir()) == ["ner", "translation"]
    for split, size in sizes.items():
        for lang in ("en", tgt):
            text = (work / "raw" / "translation" / f"{split}.{lang}").read_text()
            assert len(text.splitlines()) == size
    assert not (work / "data-bin").exists()


def test_broken_sgml_fails_loudly_and_leaves_nothing(offline, tmp_path):
    folder, sources = offline
    broken = tmp_path / "offline"
    shutil.copytree(folder, broken)
    ref = (FIXTURES / "wmt" / "newstest2018-entr-ref.tr.sgm").read_text()
    bad = tmp_path / "ref.sgm"
    bad.write_text(ref.replace('<seg id="2">', '<seg id="2"', 1))
    with tarfile.open(broken / "wmt18-test.tgz", "w:gz") as archive:
        archive.add(FIXTURES / "wmt" / "newstest2018-entr-src.en.sgm",
                    "test/newstest2018-entr-src.en.sgm")  # fmt: skip
        archive.add(bad, "test/newstest2018-entr-ref.tr.sgm")
    test_sources = tmp_path / "sources.tsv"  # the fixture archive's md5 changed
    rows = [line.split("\t") for line in sources.read_text().splitlines()]
    test_sources.write_text(
        "".join(
            "\t".join(row[:3] + ["-" if row[1] == "wmt18_test" else row[3], row[4]])
            + "\n"
            for row in rows
        )
    )
    work = tmp_path / "work"
    done = prepare(
        "en-tr", "--offline", broken, "--sources", test_sources, "--work-dir", work,
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1
    assert "newstest2018-entr-ref.tr.sgm:5: unclosed <seg>" in done.stderr
    assert "prepare.sh: error: step 'translation en-tr' failed" in done.stderr
    assert not (work / "raw").exists() or not list((work / "raw").iterdir())
    assert not (work / "data-bin").exists()


def test_broken_tree_fails_loudly_then_resumes(offline, tmp_path):
    folder, sources = offline
    ptb = tmp_path / "ptb"
    shutil.copytree(PTB, ptb)
    mrg = ptb / "wsj" / "22" / "wsj_2201.mrg"
    good = mrg.read_text()
    mrg.write_text(good.replace("(. !) ))", "(. !) )))"))
    work = tmp_path / "work"
    args = ["en-vi", "--offline", folder, "--sources", sources, "--work-dir", work,
            "--ptb", ptb, "--raw-only"]  # fmt: skip
    done = prepare(*args, cwd=tmp_path)
    assert done.returncode == 1
    assert f"{mrg}: not a sequence of bracketed trees" in done.stderr
    assert "step 'parse' failed" in done.stderr
    assert sorted(p.name for p in (work / "raw").iterdir()) == ["ner", "translation"]
    kept = snapshot(work / "raw")
    mrg.write_text(good)
    done = prepare(*args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "skip fetch" in done.stderr and "step parse" in done.stderr
    assert {k: v for k, v in snapshot(work / "raw").items() if k in kept} == kept
    assert (work / "raw" / "parse" / "valid.parse").read_text() == (
        "(FRAG (NP JJ NN )NP . )FRAG\n"
    )


def test_missing_offline_file_is_listed(offline, tmp_path):
    folder, sources = offline
    partial = tmp_path / "offline"
    shutil.copytree(folder, partial)
    (partial / "iwslt15.en-vi.tst2013.vi").unlink()
    done = prepare(
        "en-vi", "--offline", partial, "--sources", sources, "--work-dir",
        tmp_path / "work", "--raw-only", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 1
    assert (
        "missing iwslt15.en-vi.tst2013.vi <- https://nlp.stanford.edu/" in done.stderr
    )
    assert "step 'fetch en-vi ner' failed" in done.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "PAIR missing"),
        (["en-de"], "PAIR must be en-vi, en-tr or en-es, not 'en-de'"),
        (["en-vi", "en-tr"], "one PAIR only"),
        (["en-vi", "--frobnicate"], "unknown option --frobnicate"),
        (["en-vi", "--ptb"], "--ptb needs a value"),
        (["en-vi", "--ptb", "/no/such/dir"], "--ptb /no/such/dir: no such directory"),
        (["en-vi", "--offline", "/no/such/dir"], "--offline /no/such/dir: no such"),
    ],
)
def test_usage_errors(tmp_path, args, message):
    done = prepare(*args, cwd=tmp_path)
    assert done.returncode != 0
    assert f"prepare.sh: error: {message}" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_help(tmp_path):
    done = prepare("--help", cwd=tmp_path)
    assert done.returncode == 0
    assert done.stdout.startswith(
        "Usage: data-prep/prepare.sh [OPTIONS] en-vi|en-tr|en-es"
    )
    assert "--offline DIR" in done.stdout and "set -euo" not in done.stdout
