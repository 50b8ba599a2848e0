#!/usr/bin/env python3
"""Turn the CoNLL-2003 English NER data into an English -> tag-sequence task.

CoNLL-2003 (Tjong Kim Sang & De Meulder, 2003) annotates Reuters news with
named entities. Its files have one token per line in four space-separated
columns, ``word POS-tag chunk-tag NER-tag`` (for example ``U.N. NNP I-NP
I-ORG``), a blank line after each sentence, and a ``-DOCSTART- -X- -X- O`` line
at the start of each article.

Each sentence becomes one pair: the source is its words joined by spaces, the
target its NER tags (one per word, as in the file: ``O``, ``I-PER``,
``B-LOC`` ...), so both sides have the same number of tokens. The part-of-speech
and chunk columns are not used.

Input (``--input``): a directory or a ``.zip`` holding the English files under
either their original names (``eng.train``, ``eng.testa``, ``eng.testb``) or
the names of the common redistribution (``train.txt``, ``valid.txt``,
``test.txt``); they become the ``train``, ``valid`` and ``test`` splits. Only
the training file is required.

The script stops, naming the file and line, on a line that does not have four
columns or whose last column is not a tag (``O`` or ``X-TYPE`` with X one of
B, I, E, S). The output directory ``--out`` is written atomically and left
alone if it exists.

Example::

    ner_conll.py --input downloads/conll2003.zip --out raw/ner
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Sequence

from prep_io import Pairs, aux_task_main, read_member_lines, run_cli, write_task

logger = logging.getLogger(__name__)

SPLIT_FILES = {  # split -> accepted file names, original release first
    "train": ("eng.train", "train.txt"),
    "valid": ("eng.testa", "valid.txt"),
    "test": ("eng.testb", "test.txt"),
}
TARGET = "ner"
_TAG_RE = re.compile(r"^(?:O|[BIES]-[A-Za-z]+)$")


def read_conll(lines: Sequence[str], where: str) -> Pairs:
    """Reads the sentences of one CoNLL-2003 file as (words, tags) pairs.

    Args:
        lines: the file's lines.
        where: the file's name for messages.

    Returns:
        One ``("word word ...", "TAG TAG ...")`` pair per sentence, in file order.

    Raises:
        ValueError: naming ``where`` and the line, for a malformed line.
    """
    pairs: Pairs = []
    words: list[str] = []
    tags: list[str] = []
    for number, line in enumerate(list(lines) + [""], 1):
        columns = line.split()
        if not columns or columns[0] == "-DOCSTART-":
            if words:
                pairs.append((" ".join(words), " ".join(tags)))
            words, tags = [], []
            continue
        if len(columns) != 4 or not _TAG_RE.match(columns[3]):
            raise ValueError(
                f"{where}:{number}: expected 'word POS chunk NER-tag', got {line!r}"
            )
        words.append(columns[0])
        tags.append(columns[3])
    return pairs


def find_split(container: Path, split: str) -> tuple[list[str], str] | None:
    """Reads the file of ``split`` under either of its names, or returns ``None``.

    Raises:
        ValueError: if both names are present.
    """
    found = []
    for name in SPLIT_FILES[split]:
        try:
            found.append(read_member_lines(container, name))
        except FileNotFoundError:
            continue
    if len(found) > 1:
        raise ValueError(f"{container}: has both {' and '.join(SPLIT_FILES[split])}")
    return found[0] if found else None


def build(container: Path, out_dir: Path) -> None:
    """Reads every split found in ``container`` and writes the task directory.

    Raises:
        FileNotFoundError: if there is no training file.
        ValueError: for malformed input (see :func:`read_conll`).
    """
    if not container.exists():
        raise FileNotFoundError(f"--input {container}: no such file or directory")
    splits = {}
    for split in SPLIT_FILES:
        found = find_split(container, split)
        if found is None:
            if split == "train":
                raise FileNotFoundError(
                    f"--input {container}: no {' or '.join(SPLIT_FILES['train'])}"
                )
            logger.warning("%s: no %s file; skipping that split", container, split)
            continue
        lines, where = found
        splits[split] = read_conll(lines, where)
        if not splits[split]:
            raise ValueError(f"{where}: no sentences")
    write_task(out_dir, splits, "en", TARGET)


def main(argv: Sequence[str] | None = None) -> None:
    """Runs the command line; raises on failure."""
    aux_task_main(__doc__, "--input", "CoNLL-2003 folder or .zip", build, argv)


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
