#!/usr/bin/env python3
"""Turn Penn Treebank WSJ trees into an English -> linearised-parse task.

Constituency parsing becomes a sequence-to-sequence task by writing each tree
as a bracket sequence (Vinyals et al., 2015, "Grammar as a Foreign Language").
The source is the sentence, the target its tree with

* every word replaced by its part-of-speech tag (the pre-terminal brackets go:
  ``(NNP John)`` is written ``NNP``);
* every other constituent written as an opening token ``(LABEL`` and a closing
  token ``)LABEL``, both carrying the label.

For example ``(S (NP-SBJ (NNP John)) (VP (VBZ has) (NP (DT a) (NN dog))) (. .))``
gives the source ``John has a dog .`` and the target
``(S (NP NNP )NP (VP VBZ (NP DT NN )NP )VP . )S``.

Before that, each tree is normalised as usual for parsing:

1. the empty outer bracket of the ``.mrg`` files is removed (a tree with
   several children under it gets the label ``TOP``);
2. empty elements (``-NONE-``: traces, null complementisers) are deleted, and
   so is every constituent left without words;
3. function tags and co-indices are stripped from labels (``NP-SBJ-1`` ->
   ``NP``, ``PP-LOC=2`` -> ``PP``, ``ADVP|PRT`` -> ``ADVP``); labels starting
   with ``-`` (``-LRB-``, ``-RRB-``) are kept whole.

Unary chains are kept. On the source side the treebank's escapes are undone so
the words read like the text of the other tasks: ``-LRB-`` ``-RRB-`` ``-LCB-``
``-RCB-`` ``-LSB-`` ``-RSB-`` become ``( ) { } [ ]``, ``\\/`` and ``\\*`` become
``/`` and ``*``, and the quote tokens ````` and ``''`` become ``"``. The
target's tags are unchanged (the tag of ``(`` stays ``-LRB-``).

Input (``--ptb``): a folder holding the WSJ ``.mrg`` files of the LDC release
(Treebank-3, LDC99T42: ``parsed/mrg/wsj/SS/wsj_SSNN.mrg``), searched
recursively; the section ``SS`` is read from each file name. Standard split:
sections 02-21 are ``train``, 22 ``valid`` and 23 ``test``; others are unused.
Each file is parsed with NLTK's ``Tree.fromstring``; a file that does not parse
(unbalanced brackets, text outside a tree) stops the script with its name.
The output directory ``--out`` is written atomically and left alone if it
exists.

Example::

    parse_ptb.py --ptb /data/treebank_3/parsed/mrg/wsj --out raw/parse
"""

from __future__ import annotations

import collections
import logging
import re
from pathlib import Path
from typing import Sequence

from prep_io import (
    Pairs,
    aux_task_main,
    normalise_space,
    read_member_lines,
    run_cli,
    write_task,
)

logger = logging.getLogger(__name__)

SPLIT_SECTIONS = {
    "train": tuple(range(2, 22)),
    "valid": (22,),
    "test": (23,),
}
TARGET = "parse"
_FILE_RE = re.compile(r"^wsj_(\d\d)\d\d\.mrg$")
_LABEL_SPLIT_RE = re.compile(r"[-=|]")
_WORD_ESCAPES = {
    "-LRB-": "(", "-RRB-": ")", "-LCB-": "{", "-RCB-": "}", "-LSB-": "[",
    "-RSB-": "]", "``": '"', "''": '"',
}  # fmt: skip


def strip_label(label: str) -> str:
    """Removes function tags and indices: ``NP-SBJ-1`` -> ``NP``, ``-LRB-`` kept."""
    if label.startswith("-"):
        return label
    return _LABEL_SPLIT_RE.split(label, 1)[0]


def unescape_word(word: str) -> str:
    """Undoes the treebank's escapes of brackets, slashes, stars and quotes."""
    word = _WORD_ESCAPES.get(word, word)
    return word.replace("\\/", "/").replace("\\*", "*")


def normalise_tree(tree):
    """Returns a copy without empty elements, with plain labels, or ``None``.

    Args:
        tree: an ``nltk.Tree`` (a constituent) whose leaves are words.

    Returns:
        A new tree (steps 2-3 of the module docstring), or ``None`` when
        nothing but empty elements is left.

    Raises:
        ValueError: for a node that mixes words and constituents.
    """
    from nltk import Tree

    if tree.label() == "-NONE-":
        return None
    if all(isinstance(child, str) for child in tree):
        if len(tree) != 1:
            raise ValueError(f"pre-terminal with {len(tree)} words: {tree}")
        return Tree(strip_label(tree.label()), [tree[0]])
    if any(isinstance(child, str) for child in tree):
        raise ValueError(f"a word beside constituents: {tree}")
    children = [normalise_tree(child) for child in tree]
    children = [child for child in children if child is not None]
    if not children:
        return None
    return Tree(strip_label(tree.label()), children)


def linearise(tree) -> list[str]:
    """Writes a normalised tree as Vinyals et al.'s token sequence (module doc)."""
    if isinstance(tree[0], str):
        return [tree.label()]
    tokens = [f"({tree.label()}"]
    for child in tree:
        tokens.extend(linearise(child))
    tokens.append(f"){tree.label()}")
    return tokens


def tree_to_pair(tree) -> tuple[str, str] | None:
    """Returns (sentence, linearised tree), or ``None`` for an all-empty tree."""
    tree = normalise_tree(tree)
    if tree is None:
        return None
    words = normalise_space(" ".join(unescape_word(word) for word in tree.leaves()))
    return words, " ".join(linearise(tree))


def read_mrg(lines: Sequence[str], where: str) -> list:
    """Parses every tree of one ``.mrg`` file, outer empty bracket removed.

    Raises:
        ValueError: naming ``where``, if the file is not a sequence of trees.
    """
    from nltk import Tree

    text = "\n".join(lines)
    try:
        # one parse of the whole file: unbalanced brackets anywhere fail here
        forest = Tree.fromstring(f"(FILE\n{text}\n)")
    except ValueError as err:
        raise ValueError(f"{where}: not a sequence of bracketed trees: {err}") from err
    trees = []
    for number, tree in enumerate(forest, 1):
        if isinstance(tree, str):
            raise ValueError(f"{where}: text {tree!r} outside a tree (tree {number})")
        if tree.label() == "":
            if len(tree) == 1 and not isinstance(tree[0], str):
                tree = tree[0]
            else:
                tree = Tree("TOP", list(tree))
        trees.append(tree)
    return trees


def find_sections(ptb_dir: Path) -> dict[int, list[Path]]:
    """Finds the ``wsj_SSNN.mrg`` files under ``ptb_dir``, by section.

    Raises:
        FileNotFoundError: if there are none.
        ValueError: if a file name occurs twice.
    """
    if not ptb_dir.is_dir():
        raise FileNotFoundError(f"--ptb {ptb_dir}: no such directory")
    sections: dict[int, list[Path]] = collections.defaultdict(list)
    names: dict[str, Path] = {}
    for path in sorted(ptb_dir.rglob("*.mrg")):
        match = _FILE_RE.match(path.name)
        if match is None:
            continue
        if path.name in names:
            raise ValueError(f"--ptb {ptb_dir}: {path} and {names[path.name]}")
        names[path.name] = path
        sections[int(match.group(1))].append(path)
    if not sections:
        raise FileNotFoundError(f"--ptb {ptb_dir}: no wsj_SSNN.mrg files below it")
    return sections


def build(ptb_dir: Path, out_dir: Path) -> None:
    """Reads the standard split and writes the task directory.

    Raises:
        FileNotFoundError: if no training section is found.
        ValueError: for a file that does not parse.
    """
    sections = find_sections(ptb_dir)
    splits: dict[str, Pairs] = {}
    for split, wanted in SPLIT_SECTIONS.items():
        missing = [f"{s:02d}" for s in wanted if s not in sections]
        if missing:
            logger.warning("--ptb %s: no section %s", ptb_dir, ", ".join(missing))
        paths = [path for s in wanted for path in sections.get(s, [])]
        if not paths:
            if split == "train":
                raise FileNotFoundError(f"--ptb {ptb_dir}: no section of 02-21")
            continue
        pairs, empty = [], 0
        for path in paths:
            lines, where = read_member_lines(path, path.name)
            for number, tree in enumerate(read_mrg(lines, where), 1):
                try:
                    pair = tree_to_pair(tree)
                except ValueError as err:
                    raise ValueError(f"{where}: tree {number}: {err}") from err
                empty += pair is None
                if pair is not None:
                    pairs.append(pair)
        logger.info("%s: %d trees from %d files", split, len(pairs), len(paths))
        if empty:
            logger.warning("%s: dropped %d trees with no words", split, empty)
        splits[split] = pairs
    write_task(out_dir, splits, "en", TARGET)


def main(argv: Sequence[str] | None = None) -> None:
    """Runs the command line; raises on failure."""
    aux_task_main(__doc__, "--ptb", "folder with wsj_SSNN.mrg", build, argv)


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
