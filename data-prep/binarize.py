#!/usr/bin/env python3
"""Turn raw parallel text for several tasks into fairseq data-bin with one vocabulary.

This is the last data-preparation step of every data set in the project, the
small demo set and the paper's corpora alike. It takes plain, untokenised text
and produces what the ``--user-dir fairseq_aiw`` task loads.

Input layout (``--raw-dir RAW``)::

    RAW/<task>/<split>.<lang>

One directory per task, holding exactly one language pair: the source is the
suffix given by ``--src-lang`` (default ``en``), the target the other suffix.
The main task (``--main-task``) must have the splits ``train``, ``valid``,
``meta_valid`` and ``test``; every other task needs at least ``train``; any
further split found (``valid`` of an auxiliary task, say) is processed too.
Both files of a split must have the same number of lines. Hidden files are
ignored; any other file that is not ``<split>.<lang>`` is an error.

Output layout (``--dest-dir DEST``)::

    DEST/spm.model, DEST/spm.vocab   the joint SentencePiece BPE model
    DEST/dict.txt                    the shared fairseq dictionary
    DEST/<task>/                     what fairseq-preprocess writes for the task:
        <split>.<src>-<tgt>.<src>.bin/.idx, <split>.<src>-<tgt>.<tgt>.bin/.idx,
        dict.<src>.txt, dict.<tgt>.txt (both identical to DEST/dict.txt),
        preprocess.log
    DEST/.encoded/<task>/<split>.<lang>   SentencePiece pieces (intermediate)

Steps, each skipped when its output already exists:

1. Check the raw layout and line counts, before anything is written.
2. Train one SentencePiece BPE model on the ``train`` text of all tasks, both
   sides (``--vocab-size``; an upper bound, as a small corpus may support fewer
   merges), or copy ``--spm-model``.
3. Encode every split with it into ``DEST/.encoded``.
4. Count the pieces of all encoded ``train`` text into one fairseq dictionary.
5. Run fairseq-preprocess per task with ``--srcdict D --tgtdict D``. Splits
   other than train/valid/test are binarised as a ``valid`` set and renamed,
   so ``meta_valid`` gives ``meta_valid.en-vi.en.bin``.

Every file and task directory is written under a temporary name and renamed
when complete, so a failure leaves no half-written output and a re-run resumes.
Outputs are not compared with the raw text: after changing ``RAW`` or the
vocabulary flags, remove ``DEST`` (or the parts to rebuild). The script exits
with status 1 and a message naming the offending file on failure.

Example::

    binarize.py --raw-dir data/demo/raw --dest-dir data-bin/demo \\
        --main-task translation --vocab-size 8000 --workers 2

From Python: ``binarize(Path(raw), Path(dest), BinarizeConfig(vocab_size=8000))``.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import filecmp
import hashlib
import logging
import os
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Iterator, Sequence

logger = logging.getLogger(__name__)

MAIN_SPLITS = ("train", "valid", "meta_valid", "test")
FAIRSEQ_SPLITS = {"train": "--trainpref", "valid": "--validpref", "test": "--testpref"}
ENCODED = ".encoded"
ENCODE_BATCH = 10000  # lines per SentencePiece call
_LANG_RE = re.compile(r"\w+")


@dataclasses.dataclass(frozen=True)
class BinarizeConfig:
    """Options of :func:`binarize`; the command-line flags have the same names.

    Attributes:
        main_task: directory name of the main task under the raw dir.
        src_lang: file suffix of the source side, shared by all tasks.
        vocab_size: SentencePiece vocabulary size, an upper bound.
        spm_model: an existing SentencePiece model to use instead of training
            one; ``None`` trains one.
        character_coverage: share of characters SentencePiece must cover; 1.0
            keeps every character seen in training.
        spm_max_sentences: most training lines SentencePiece samples; 0 = all.
        workers: threads for SentencePiece and processes for fairseq-preprocess.
        seed: seed of SentencePiece's sampling of training lines.
    """

    main_task: str = "translation"
    src_lang: str = "en"
    vocab_size: int = 40000
    spm_model: Path | None = None
    character_coverage: float = 1.0
    spm_max_sentences: int = 10_000_000
    workers: int = 1
    seed: int = 1


@dataclasses.dataclass(frozen=True)
class TaskData:
    """One task's raw text: ``<raw_dir>/<name>/<split>.<src|tgt>``."""

    name: str
    src: str
    tgt: str
    splits: tuple[str, ...]

    def files(self, root: Path, split: str) -> tuple[Path, Path]:
        """Returns the source and target file of one split under ``root``."""
        return (
            root / self.name / f"{split}.{self.src}",
            root / self.name / f"{split}.{self.tgt}",
        )


@contextlib.contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """Yields a temporary sibling of ``path``; renames it to ``path`` on success.

    Works for files and directories; on an exception the temporary is removed
    and ``path`` is left as it was.
    """
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp)
        elif tmp.exists():
            tmp.unlink()


def count_lines(path: Path) -> int:
    """Counts lines the way fairseq reads them (universal newlines, UTF-8).

    Raises:
        ValueError: naming the file, if it is not valid UTF-8.
    """
    try:
        with open(path, encoding="utf-8") as lines:
            return sum(1 for _ in lines)
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not UTF-8 ({err})") from err


def discover_tasks(raw_dir: Path, config: BinarizeConfig) -> list[TaskData]:
    """Finds and checks the tasks under ``raw_dir`` (step 1).

    Returns:
        The tasks sorted by name, main task first.

    Raises:
        FileNotFoundError: if ``raw_dir`` or the main task is missing.
        ValueError: naming the file or directory that breaks the layout.
    """
    if not raw_dir.is_dir():
        raise FileNotFoundError(f"--raw-dir {raw_dir}: no such directory")
    task_dirs = sorted(
        p for p in raw_dir.iterdir() if p.is_dir() and not p.name.startswith(".")
    )
    names = [p.name for p in task_dirs]
    if config.main_task not in names:
        raise FileNotFoundError(
            f"--main-task {config.main_task}: no directory {raw_dir / config.main_task}"
        )
    tasks = [_read_task_dir(p, config) for p in task_dirs]
    tasks.sort(key=lambda t: (t.name != config.main_task, t.name))
    for task in tasks:
        for split in task.splits:
            src_path, tgt_path = task.files(raw_dir, split)
            src_lines, tgt_lines = count_lines(src_path), count_lines(tgt_path)
            if src_lines != tgt_lines:
                raise ValueError(
                    f"{src_path} has {src_lines} lines but {tgt_path} has {tgt_lines}"
                )
            if split == "train" and src_lines == 0:
                raise ValueError(f"{src_path}: empty training file")
    logger.info("tasks: %s", ", ".join(f"{t.name} ({t.src}->{t.tgt})" for t in tasks))
    return tasks


def _read_task_dir(task_dir: Path, config: BinarizeConfig) -> TaskData:
    """Reads one task directory's language pair and splits from its file names."""
    files: dict[str, set[str]] = collections.defaultdict(set)  # split -> langs
    for path in sorted(task_dir.iterdir()):
        if path.name.startswith("."):
            continue
        split, _, lang = path.name.rpartition(".")
        bad_name = not split or "." in split or not _LANG_RE.fullmatch(lang)
        if not path.is_file() or bad_name:
            raise ValueError(
                f"{path}: expected a file named <split>.<lang>, <lang> made of "
                "letters, digits and '_' (fairseq joins languages with '-')"
            )
        files[split].add(lang)
    langs = set().union(*files.values()) if files else set()
    if len(langs) != 2 or config.src_lang not in langs:
        raise ValueError(
            f"{task_dir}: needs files with exactly two suffixes, one of them "
            f"--src-lang {config.src_lang}; found {sorted(langs) or 'none'}"
        )
    (tgt,) = langs - {config.src_lang}
    for split, split_langs in files.items():
        if split_langs != langs:
            missing = task_dir / f"{split}.{min(langs - split_langs)}"
            raise ValueError(f"{missing}: missing")
    required = MAIN_SPLITS if task_dir.name == config.main_task else ("train",)
    for split in required:
        if split not in files:
            raise ValueError(f"{task_dir / split}.{config.src_lang}: missing")
    splits = sorted(files, key=_split_order)
    return TaskData(task_dir.name, config.src_lang, tgt, tuple(splits))


def _split_order(split: str) -> tuple[int, str]:
    """Sorts train/valid/meta_valid/test first, other splits by name."""
    if split in MAIN_SPLITS:
        return MAIN_SPLITS.index(split), ""
    return len(MAIN_SPLITS), split


def sha256(path: Path) -> str:
    """Returns the SHA-256 hex digest of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def prepare_spm(
    raw_dir: Path, dest_dir: Path, tasks: Sequence[TaskData], config: BinarizeConfig
) -> Path:
    """Trains or copies the joint SentencePiece model (step 2).

    Returns:
        ``DEST/spm.model``.

    Raises:
        ValueError: if ``DEST/spm.model`` exists and differs from ``--spm-model``.
        RuntimeError: SentencePiece's own error, with the training files named.
    """
    model = dest_dir / "spm.model"
    if config.spm_model is not None:
        if not config.spm_model.is_file():
            raise FileNotFoundError(f"--spm-model {config.spm_model}: no such file")
        if model.exists() and not filecmp.cmp(model, config.spm_model, shallow=False):
            raise ValueError(
                f"{model} differs from --spm-model {config.spm_model}; "
                "remove the destination to rebuild"
            )
    if model.exists():
        logger.info("reusing %s", model)
        return model
    if config.spm_model is not None:
        with atomic_path(model) as tmp:
            shutil.copyfile(config.spm_model, tmp)
        logger.info("copied --spm-model %s to %s", config.spm_model, model)
        return model
    inputs = [str(path) for task in tasks for path in task.files(raw_dir, "train")]
    _train_spm(inputs, dest_dir, config)
    return model


def _train_spm(inputs: list[str], dest_dir: Path, config: BinarizeConfig) -> None:
    """Trains SentencePiece BPE on ``inputs``; writes ``spm.vocab``, ``spm.model``."""
    import sentencepiece as spm

    start = time.time()
    prefix = dest_dir / f".spm.tmp{os.getpid()}"
    spm.set_random_generator_seed(config.seed)
    try:
        spm.SentencePieceTrainer.train(
            input=inputs,
            model_prefix=str(prefix),
            model_type="bpe",
            vocab_size=config.vocab_size,
            hard_vocab_limit=False,  # small corpora: fewer pieces, not an error
            character_coverage=config.character_coverage,
            input_sentence_size=config.spm_max_sentences,
            shuffle_input_sentence=True,
            num_threads=config.workers,
            minloglevel=1,
        )
        os.replace(f"{prefix}.vocab", dest_dir / "spm.vocab")
        os.replace(f"{prefix}.model", dest_dir / "spm.model")  # last: marks done
    except RuntimeError as err:
        raise RuntimeError(f"SentencePiece training on {inputs} failed: {err}") from err
    finally:
        for suffix in (".model", ".vocab"):
            Path(f"{prefix}{suffix}").unlink(missing_ok=True)
    size = spm.SentencePieceProcessor(model_file=str(dest_dir / "spm.model"))
    logger.info(
        "trained SentencePiece BPE: %d pieces (asked for %d) in %.1fs",
        size.get_piece_size(),
        config.vocab_size,
        time.time() - start,
    )


def encode_file(processor, src: Path, dest: Path, workers: int) -> None:
    """Writes ``src`` as space-separated SentencePiece pieces to ``dest``.

    Args:
        processor: a loaded ``sentencepiece.SentencePieceProcessor``.
        src: raw UTF-8 text, one sentence per line.
        dest: written atomically; one output line per input line.
        workers: SentencePiece encoding threads.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    with (
        atomic_path(dest) as tmp,
        open(src, encoding="utf-8") as lines,
        open(tmp, "w", encoding="utf-8") as out,
    ):
        batch: list[str] = []
        for line in lines:
            batch.append(line.rstrip("\n"))
            if len(batch) == ENCODE_BATCH:
                _write_pieces(processor, batch, out, workers)
                batch = []
        _write_pieces(processor, batch, out, workers)


def _write_pieces(processor, batch: list[str], out, workers: int) -> None:
    """Encodes one batch of lines and writes them out."""
    if batch:
        encoded = processor.encode(batch, out_type=str, num_threads=workers)
        out.writelines(" ".join(pieces) + "\n" for pieces in encoded)


def encode_tasks(
    raw_dir: Path,
    dest_dir: Path,
    tasks: Sequence[TaskData],
    model: Path,
    workers: int,
) -> None:
    """Encodes every split still needed into ``DEST/.encoded`` (step 3).

    A task's splits are needed while ``DEST/<task>`` is missing; ``train`` also
    while ``DEST/dict.txt`` is. ``DEST/.encoded/spm.sha256`` records the model.

    Raises:
        ValueError: if ``DEST/.encoded`` was made with another ``spm.model``.
    """
    import sentencepiece as spm

    encoded_root = dest_dir / ENCODED
    encoded_root.mkdir(exist_ok=True)
    stamp, digest = encoded_root / "spm.sha256", sha256(model)
    if not stamp.exists():
        with atomic_path(stamp) as tmp:
            tmp.write_text(digest + "\n")
    elif stamp.read_text().strip() != digest:
        raise ValueError(
            f"{encoded_root} was encoded with another {model}; remove it to re-encode"
        )
    processor = spm.SentencePieceProcessor(model_file=str(model))
    need_dict = not (dest_dir / "dict.txt").exists()
    for task in tasks:
        task_done = (dest_dir / task.name).exists()
        for split in task.splits:
            if task_done and not (need_dict and split == "train"):
                continue
            for raw, enc in zip(
                task.files(raw_dir, split), task.files(encoded_root, split)
            ):
                if not enc.exists():
                    encode_file(processor, raw, enc, workers)
    logger.info("encoded text is in %s", encoded_root)


def build_dictionary(dest_dir: Path, tasks: Sequence[TaskData]) -> Path:
    """Counts all encoded training pieces into one fairseq dictionary (step 4).

    Returns:
        ``DEST/dict.txt``, in fairseq's format (symbols by falling count, the
        special symbols implicit, padded to a multiple of 8).
    """
    path = dest_dir / "dict.txt"
    if path.exists():
        logger.info("reusing %s", path)
        return path
    from fairseq.data import Dictionary  # slow import: only when needed

    counts: collections.Counter[str] = collections.Counter()
    for task in tasks:
        for enc in task.files(dest_dir / ENCODED, "train"):
            with open(enc, encoding="utf-8") as lines:
                for line in lines:
                    counts.update(line.split())
    dictionary = Dictionary()
    for symbol, count in sorted(counts.items(), key=lambda sc: (-sc[1], sc[0])):
        dictionary.add_symbol(symbol, n=count)
    dictionary.finalize(padding_factor=8)
    with atomic_path(path) as tmp:
        dictionary.save(str(tmp))
    logger.info("dictionary: %d types in %s", len(dictionary), path)
    return path


def preprocess_task(
    dest_dir: Path, task: TaskData, dictionary: Path, workers: int
) -> None:
    """Binarises one task into ``DEST/<task>`` with the shared dictionary (step 5).

    Raises:
        ValueError: if ``DEST/<task>`` exists but was built with another
            dictionary.
    """
    out_dir = dest_dir / task.name
    if out_dir.exists():
        for lang in (task.src, task.tgt):
            task_dict = out_dir / f"dict.{lang}.txt"
            if not task_dict.exists() or not filecmp.cmp(
                task_dict, dictionary, shallow=False
            ):
                raise ValueError(
                    f"{task_dict} is missing or differs from {dictionary}; "
                    f"remove {out_dir} to rebuild it"
                )
        logger.info("reusing %s", out_dir)
        return
    prefix = dest_dir / ENCODED / task.name
    with atomic_path(out_dir) as tmp:
        argv = _preprocess_argv(task, dictionary, tmp, workers)
        for split in task.splits:
            if split in FAIRSEQ_SPLITS:
                argv += [FAIRSEQ_SPLITS[split], str(prefix / split)]
        run_fairseq_preprocess(argv)
        for split in task.splits:
            if split not in FAIRSEQ_SPLITS:
                _preprocess_extra_split(task, split, prefix, dictionary, tmp, workers)
    logger.info("binarised %s into %s", task.name, out_dir)


def _preprocess_argv(
    task: TaskData, dictionary: Path, dest: Path, workers: int
) -> list[str]:
    """Returns the fairseq-preprocess flags shared by every call for a task."""
    return [
        "--source-lang", task.src,
        "--target-lang", task.tgt,
        "--srcdict", str(dictionary),
        "--tgtdict", str(dictionary),
        "--destdir", str(dest),
        "--workers", str(workers),
    ]  # fmt: skip


def _preprocess_extra_split(
    task: TaskData, split: str, prefix: Path, dictionary: Path, dest: Path, workers: int
) -> None:
    """Binarises a split fairseq-preprocess has no flag for, as valid + rename."""
    scratch = dest / f".{split}"
    argv = _preprocess_argv(task, dictionary, scratch, workers)
    run_fairseq_preprocess(argv + ["--validpref", str(prefix / split)])
    for path in scratch.glob("valid.*"):
        os.replace(path, dest / (split + path.name[len("valid") :]))
    shutil.rmtree(scratch)


def run_fairseq_preprocess(argv: list[str]) -> None:
    """Runs ``fairseq-preprocess argv`` in this process.

    fairseq adds a log file handler to its module logger on every call; it is
    removed again so that later calls do not write into an earlier task's log.

    Raises:
        RuntimeError: naming the arguments, if fairseq exits or fails.
    """
    from fairseq import options
    from fairseq_cli import preprocess

    handlers = list(preprocess.logger.handlers)
    try:
        preprocess.main(options.get_preprocessing_parser().parse_args(argv))
    except (Exception, SystemExit) as err:
        raise RuntimeError(
            f"fairseq-preprocess {' '.join(argv)} failed: {err}"
        ) from err
    finally:
        for handler in preprocess.logger.handlers[len(handlers) :]:
            preprocess.logger.removeHandler(handler)
            handler.close()


def binarize(raw_dir: Path, dest_dir: Path, config: BinarizeConfig) -> None:
    """Runs steps 1-5 of the module docstring.

    Raises:
        FileNotFoundError, ValueError, RuntimeError: with the offending file or
            flag named in the message.
    """
    start = time.time()
    tasks = discover_tasks(raw_dir, config)
    dest_dir.mkdir(parents=True, exist_ok=True)
    model = prepare_spm(raw_dir, dest_dir, tasks, config)
    encode_tasks(raw_dir, dest_dir, tasks, model, config.workers)
    dictionary = build_dictionary(dest_dir, tasks)
    for task in tasks:
        preprocess_task(dest_dir, task, dictionary, config.workers)
    logger.info("data-bin ready in %s (%.1fs)", dest_dir, time.time() - start)


class _HelpFormatter(
    argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter
):
    """Shows defaults and keeps the description's line breaks."""


def build_parser() -> argparse.ArgumentParser:
    """Returns the command-line parser."""
    defaults = BinarizeConfig()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=_HelpFormatter
    )
    parser.add_argument("--raw-dir", required=True, help="RAW/<task>/<split>.<lang>")
    parser.add_argument("--dest-dir", required=True, help="where data-bin goes")
    parser.add_argument(
        "--main-task", default=defaults.main_task, help="needs all four splits"
    )
    parser.add_argument(
        "--src-lang", default=defaults.src_lang, help="source file suffix, all tasks"
    )
    parser.add_argument(
        "--vocab-size",
        type=int,
        default=defaults.vocab_size,
        help="SentencePiece pieces, an upper bound",
    )
    parser.add_argument(
        "--spm-model", default=None, help="use this SentencePiece model, train none"
    )
    parser.add_argument(
        "--character-coverage",
        type=float,
        default=defaults.character_coverage,
        help="share of training characters SentencePiece keeps",
    )
    parser.add_argument(
        "--spm-max-sentences",
        type=int,
        default=defaults.spm_max_sentences,
        help="lines sampled to train SentencePiece; 0 = all",
    )
    parser.add_argument(
        "--workers", type=int, default=defaults.workers, help="threads / processes"
    )
    parser.add_argument(
        "--seed", type=int, default=defaults.seed, help="SentencePiece sampling seed"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit status."""
    logging.basicConfig(
        format="%(asctime)s | %(levelname)s | %(name)s | %(message)s",
        level=logging.INFO,
    )
    args = build_parser().parse_args(argv)
    for flag in ("vocab_size", "workers"):
        if getattr(args, flag) < 1:
            logger.error("--%s must be >= 1", flag.replace("_", "-"))
            return 2
    config = BinarizeConfig(
        main_task=args.main_task,
        src_lang=args.src_lang,
        vocab_size=args.vocab_size,
        spm_model=Path(args.spm_model) if args.spm_model else None,
        character_coverage=args.character_coverage,
        spm_max_sentences=args.spm_max_sentences,
        workers=args.workers,
        seed=args.seed,
    )
    try:
        binarize(Path(args.raw_dir), Path(args.dest_dir), config)
    except (OSError, ValueError, RuntimeError) as err:
        logger.error("%s", err)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
