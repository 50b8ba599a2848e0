"""End-to-end tests of data-prep/binarize.py on a generated two-task raw dir."""

from __future__ import annotations

import logging
import random
import shutil
from pathlib import Path

import pytest

WORDS = {  # word -> (tag, "translation")
    "the": ("AT", "le"), "a": ("AT", "un"), "cat": ("NN", "chat"),
    "dog": ("NN", "chien"), "file": ("NN", "fichier"), "house": ("NN", "maison"),
    "window": ("NN", "fenetre"), "open": ("VB", "ouvrir"), "close": ("VB", "fermer"),
    "save": ("VB", "sauver"), "sees": ("VBZ", "voit"), "likes": ("VBZ", "aime"),
    "big": ("JJ", "grand"), "small": ("JJ", "petit"), "red": ("JJ", "rouge"),
    "quickly": ("RB", "vite"), "now": ("RB", "maintenant"), "and": ("CC", "et"),
}  # fmt: skip
MAIN_SPLITS = {"train": 300, "valid": 20, "meta_valid": 10, "test": 20}
AUX_SPLITS = {"train": 200, "valid": 10}


def write_task(root: Path, tgt: str, sizes: dict[str, int], seed: int) -> None:
    """Writes random sentences and their word-by-word mapping to ``tgt``."""
    rng = random.Random(seed)
    column = 0 if tgt == "pos" else 1
    root.mkdir(parents=True)
    for split, size in sizes.items():
        sentences = [
            rng.choices(list(WORDS), k=rng.randint(3, 10)) for _ in range(size)
        ]
        src = [" ".join(words) for words in sentences]
        out = [" ".join(WORDS[w][column] for w in words) for words in sentences]
        (root / f"{split}.en").write_text("\n".join(src) + "\n", encoding="utf-8")
        (root / f"{split}.{tgt}").write_text("\n".join(out) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def raw_dir(tmp_path_factory) -> Path:
    raw = tmp_path_factory.mktemp("raw")
    write_task(raw / "translation", "fr", MAIN_SPLITS, seed=1)
    write_task(raw / "pos", "pos", AUX_SPLITS, seed=2)
    return raw


def run(binarize, raw: Path, dest: Path, *extra: str) -> int:
    argv = ["--raw-dir", str(raw), "--dest-dir", str(dest), "--vocab-size", "100"]
    return binarize.main(argv + list(extra))


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """Maps every file under ``root`` to its (mtime_ns, size)."""
    return {
        str(p.relative_to(root)): (p.stat().st_mtime_ns, p.stat().st_size)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def built(binarize, raw_dir, tmp_path_factory) -> Path:
    dest = tmp_path_factory.mktemp("bin") / "data-bin"
    assert run(binarize, raw_dir, dest) == 0
    return dest


def test_outputs_and_shared_dictionary(built):
    expected = {"spm.model", "spm.vocab", "dict.txt", "translation", "pos", ".encoded"}
    assert {p.name for p in built.iterdir()} == expected
    dictionary = (built / "dict.txt").read_bytes()
    assert dictionary.splitlines()[0].split()[0] == b"\xe2\x96\x81"  # "▁" commonest
    for task, tgt, splits in (
        ("translation", "fr", MAIN_SPLITS),
        ("pos", "pos", AUX_SPLITS),
    ):
        names = {p.name for p in (built / task).iterdir()}
        for split in splits:
            for lang in ("en", tgt):
                for ext in ("bin", "idx"):
                    assert f"{split}.en-{tgt}.{lang}.{ext}" in names
        for lang in ("en", tgt):
            assert (built / task / f"dict.{lang}.txt").read_bytes() == dictionary


@pytest.mark.parametrize(
    "task, split, lang",
    [("translation", "meta_valid", "fr"), ("translation", "test", "en"),
     ("pos", "valid", "pos"), ("pos", "train", "en")],
)  # fmt: skip
def test_binarised_text_decodes_to_raw(built, raw_dir, task, split, lang):
    import sentencepiece as spm
    from fairseq.data import Dictionary, data_utils

    dictionary = Dictionary.load(str(built / "dict.txt"))
    pair = "en-fr" if task == "translation" else "en-pos"
    dataset = data_utils.load_indexed_dataset(
        str(built / task / f"{split}.{pair}.{lang}"), dictionary
    )
    raw = (raw_dir / task / f"{split}.{lang}").read_text(encoding="utf-8")
    lines = raw.splitlines()
    assert len(dataset) == len(lines)
    processor = spm.SentencePieceProcessor(model_file=str(built / "spm.model"))
    for i in (0, len(lines) - 1):
        assert dataset[i][-1].item() == dictionary.eos()
        pieces = dictionary.string(dataset[i]).split()
        assert dictionary.unk_word not in pieces
        assert processor.decode_pieces(pieces) == lines[i]


def test_second_run_changes_nothing(binarize, raw_dir, built, caplog):
    before = snapshot(built)
    with caplog.at_level(logging.INFO):
        assert run(binarize, raw_dir, built) == 0
    assert snapshot(built) == before
    assert "reusing" in caplog.text and "trained" not in caplog.text


def test_mismatched_lines_fail_before_writing(binarize, raw_dir, tmp_path, caplog):
    raw = tmp_path / "raw"
    shutil.copytree(raw_dir, raw)
    lines = (raw / "pos" / "train.pos").read_text(encoding="utf-8").splitlines()
    (raw / "pos" / "train.pos").write_text("\n".join(lines[:-1]) + "\n")
    dest = tmp_path / "bin"
    assert run(binarize, raw, dest) == 1
    assert "train.en has 200 lines but" in caplog.text
    assert str(raw / "pos" / "train.pos") in caplog.text
    assert not dest.exists()


def test_failure_midway_leaves_no_partial_task(
    binarize, raw_dir, built, tmp_path, monkeypatch, caplog
):
    real = binarize.run_fairseq_preprocess

    def fail_on_pos(argv):
        if "pos" in argv:
            raise RuntimeError("fairseq-preprocess boom (test)")
        real(argv)

    dest = tmp_path / "bin"
    spm_model = ["--spm-model", str(built / "spm.model")]
    monkeypatch.setattr(binarize, "run_fairseq_preprocess", fail_on_pos)
    assert run(binarize, raw_dir, dest, *spm_model) == 1
    assert "boom" in caplog.text
    assert sorted(p.name for p in dest.iterdir()) == [
        ".encoded", "dict.txt", "spm.model", "translation"
    ]  # fmt: skip
    translation = snapshot(dest / "translation")
    monkeypatch.setattr(binarize, "run_fairseq_preprocess", real)
    assert run(binarize, raw_dir, dest, *spm_model) == 0
    assert snapshot(dest / "translation") == translation
    assert (dest / "pos" / "dict.pos.txt").read_bytes() == (
        built / "dict.txt"
    ).read_bytes()


def test_spm_model_must_match_existing(binarize, raw_dir, built, tmp_path, caplog):
    other = tmp_path / "other.model"
    other.write_bytes(b"not the same model")
    assert run(binarize, raw_dir, built, "--spm-model", str(other)) == 1
    assert "differs from --spm-model" in caplog.text


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda raw: (raw / "translation" / "meta_valid.fr").unlink(),
         "meta_valid.fr: missing"),
        (lambda raw: [(raw / "translation" / f"meta_valid.{lang}").unlink()
                      for lang in ("en", "fr")],
         "meta_valid.en: missing"),
        (lambda raw: (raw / "pos" / "train.de").write_text("x\n"),
         "exactly two suffixes"),
        (lambda raw: (raw / "pos" / "README").write_text("x\n"),
         "README: expected a file named <split>.<lang>"),
        (lambda raw: (raw / "pos" / "train.pt-BR").write_text("x\n"),
         "train.pt-BR: expected a file named"),
        (lambda raw: shutil.rmtree(raw / "translation"),
         "--main-task translation"),
        (lambda raw: (raw / "pos" / "train.en").write_bytes(b"\xff\xfe\n" * 200),
         "train.en: not UTF-8"),
    ],
)  # fmt: skip
def test_bad_layout_is_named(binarize, raw_dir, tmp_path, caplog, change, message):
    raw = tmp_path / "raw"
    shutil.copytree(raw_dir, raw)
    change(raw)
    assert run(binarize, raw, tmp_path / "bin") == 1
    assert message in caplog.text
    assert not (tmp_path / "bin").exists()
