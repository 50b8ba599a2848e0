#!/usr/bin/env python3
"""Turn AMR 2.0 graphs into an English -> linearised-AMR task.

Abstract Meaning Representation (AMR) writes the meaning of a sentence as a
rooted graph in PENMAN notation, for example::

    # ::id bolt12_07_4800.1 ::date 2012-12-19T12:53:14
    # ::snt The boy wants to go.
    (w / want-01
       :ARG0 (b / boy)
       :ARG1 (g / go-02
                :ARG0 b))

Following Konstas et al. (2017, "Neural AMR"), each graph is written as one
token sequence with

1. variables removed: a node is written as its concept, and a second mention of
   a variable (a re-entrancy, ``:ARG0 b`` above) as that variable's concept;
2. sense numbers removed from concepts (``want-01`` -> ``want``,
   ``have-org-role-91`` -> ``have-org-role``);
3. ``:wiki`` links removed;
4. named entities anonymised: a node with a ``:name`` edge to a ``name`` node,
   such as ``(c / city :wiki "New_York_City" :name (n / name :op1 "New" :op2
   "York"))``, becomes one token ``TYPE_name_K`` (here ``city_name_0``), where
   TYPE is the node's concept and K numbers the distinct names of that type in
   the graph from 0, in the order they are written;
5. brackets kept only around nodes that have edges, as separate ``(`` and ``)``
   tokens, and not around the root; roles are written as they appear, inverse
   roles included (``:ARG0-of``);
6. string constants written without quotes and with ``_`` for spaces (``:value
   "5 am"`` -> ``:value 5_am``); other constants as they are (``:polarity -``,
   ``:quant 3``, ``:mode imperative``).

The example above becomes ``want :ARG0 boy :ARG1 ( go :ARG0 boy )``. The source
is the sentence of the ``# ::snt`` line, untokenised. Unlike Konstas et al., the
entities are not anonymised in the sentence too (that needs word alignments),
and dates and numbers are kept as they are.

Input (``--amr``): the root of the LDC release (LDC2017T10), whose
``data/amrs/split/{training,dev,test}/*.txt`` become the ``train``, ``valid``
and ``test`` splits, or a folder holding those three folders. Only training is
required. A file is read as blocks separated by blank lines; a block of comment
lines only (the release header) is skipped; every other block must be exactly
one graph that ``penman`` parses, with a ``# ::snt`` line, else the script stops
naming the file and line. The output directory ``--out`` is written atomically
and left alone if it exists.

Example::

    amr_penman.py --amr /data/abstract_meaning_representation_amr_2.0 --out raw/amr
"""

from __future__ import annotations

import collections
import logging
import re
from pathlib import Path
from typing import Iterator, Sequence

from prep_io import (
    Pairs,
    aux_task_main,
    normalise_space,
    read_member_lines,
    run_cli,
    write_task,
)

logger = logging.getLogger(__name__)

SPLIT_DIRS = {"train": "training", "valid": "dev", "test": "test"}
TARGET = "amr"
_SENSE_RE = re.compile(r"-\d+$")
_OP_RE = re.compile(r"^:op(\d+)$")

Node = tuple  # penman's tree node: (variable, [(role, target), ...])


def strip_sense(concept: str) -> str:
    """``want-01`` -> ``want``; a concept without a sense number is unchanged."""
    return _SENSE_RE.sub("", concept)


def format_constant(value: str) -> str:
    """Writes a constant as one token: quotes dropped, spaces become ``_``."""
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        value = value[1:-1].replace('\\"', '"')
    return "_".join(value.split()) or '""'


def _concept(node: Node) -> str:
    """Returns a node's concept, the target of its ``/`` branch."""
    for role, target in node[1]:
        if role == "/" and target:
            return target
    raise ValueError(f"node {node[0]!r} has no concept")


def _walk(node: Node) -> Iterator[Node]:
    """Yields every node of a tree in written (pre-)order."""
    yield node
    for _, target in node[1]:
        if isinstance(target, tuple):
            yield from _walk(target)


def _entity_name(node: Node) -> str | None:
    """Returns the name string of a named-entity node, else ``None``."""
    for role, target in node[1]:
        if role == ":name" and isinstance(target, tuple) and _concept(target) == "name":
            ops = sorted(
                (int(m.group(1)), format_constant(value))
                for op, value in target[1]
                if (m := _OP_RE.match(op)) and isinstance(value, str)
            )
            return " ".join(value for _, value in ops)
    return None


def node_heads(root: Node) -> tuple[dict[str, str], set[str]]:
    """Maps every variable to the token it is written as (steps 1, 2 and 4).

    Returns:
        ``{variable: token}`` and the set of named-entity variables.
    """
    heads: dict[str, str] = {}
    entities: set[str] = set()
    numbers: dict[tuple[str, str], str] = {}
    per_type: collections.Counter[str] = collections.Counter()
    for node in _walk(root):
        concept = strip_sense(_concept(node))
        name = _entity_name(node)
        if name is None:
            heads[node[0]] = concept
            continue
        key = (concept, name)
        if key not in numbers:
            numbers[key] = f"{concept}_name_{per_type[concept]}"
            per_type[concept] += 1
        heads[node[0]] = numbers[key]
        entities.add(node[0])
    return heads, entities


def _node_tokens(
    node: Node, heads: dict[str, str], entities: set[str], top: bool
) -> list[str]:
    """Linearises one node and its edges (steps 3, 5 and 6)."""
    variable, branches = node
    edges: list[str] = []
    for role, target in branches:
        if role in ("/", ":wiki") or (role == ":name" and variable in entities):
            continue
        edges.append(role)
        if target is None:  # penman only warns about this
            raise ValueError(f"edge {role} of {variable!r} has no target")
        if isinstance(target, tuple):
            edges.extend(_node_tokens(target, heads, entities, top=False))
        elif target in heads:  # a re-entrancy
            edges.append(heads[target])
        else:
            edges.append(format_constant(target))
    if not edges or top:
        return [heads[variable], *edges]
    return ["(", heads[variable], *edges, ")"]


def linearise(root: Node) -> str:
    """Writes a penman tree's root node as Konstas et al.'s sequence (module doc)."""
    heads, entities = node_heads(root)
    return " ".join(_node_tokens(root, heads, entities, top=True))


def _graph_ends_once(text: str) -> bool:
    """Whether the brackets of ``text`` (outside strings) close once, at its end.

    ``penman.parse`` stops after the first complete graph and ignores what
    follows, so a stray ``)`` or a second graph in a block would pass unseen.
    """
    depth, in_string, escaped = 0, False, False
    for i, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "()":
            depth += 1 if char == "(" else -1
            if depth <= 0:
                return depth == 0 and not text[i + 1 :].strip()
    return False


def read_amr(lines: Sequence[str], where: str) -> Pairs:
    """Reads one AMR file into (sentence, linearised graph) pairs.

    Raises:
        ValueError: naming ``where`` and the block's first line, for a block
            that is not one well-formed graph or has no ``# ::snt`` line.
    """
    import penman

    pairs: Pairs = []
    block: list[str] = []
    start = 1
    for number, line in enumerate(list(lines) + [""], 1):
        if line.strip():
            start = number if not block else start
            block.append(line)
            continue
        graph = "\n".join(x for x in block if not x.lstrip().startswith("#"))
        if graph.strip():
            at = f"{where}:{start}"
            if not _graph_ends_once(graph):
                raise ValueError(f"{at}: not exactly one bracketed graph")
            try:
                tree = penman.parse("\n".join(block))
            except penman.DecodeError as err:
                raise ValueError(f"{at}: {str(err).strip()}") from err
            if "snt" not in tree.metadata:
                raise ValueError(f"{at}: graph without a '# ::snt' line")
            try:
                pairs.append(
                    (normalise_space(tree.metadata["snt"]), linearise(tree.node))
                )
            except ValueError as err:
                raise ValueError(f"{at}: {err}") from err
        block = []
    return pairs


def find_split_dir(amr_dir: Path, split: str) -> Path | None:
    """Returns the folder of one split under the release root, or ``None``."""
    name = SPLIT_DIRS[split]
    for folder in (amr_dir / "data" / "amrs" / "split" / name, amr_dir / name):
        if folder.is_dir():
            return folder
    return None


def build(amr_dir: Path, out_dir: Path) -> None:
    """Reads every split found and writes the task directory.

    Raises:
        FileNotFoundError: if there are no training files.
        ValueError: for a malformed graph (see :func:`read_amr`).
    """
    if not amr_dir.is_dir():
        raise FileNotFoundError(f"--amr {amr_dir}: no such directory")
    splits: dict[str, Pairs] = {}
    for split in SPLIT_DIRS:
        folder = find_split_dir(amr_dir, split)
        paths = sorted(folder.glob("*.txt")) if folder is not None else []
        if not paths:
            if split == "train":
                raise FileNotFoundError(
                    f"--amr {amr_dir}: no data/amrs/split/training/*.txt "
                    "(nor training/*.txt)"
                )
            logger.warning(
                "--amr %s: no %s files; skipping", amr_dir, SPLIT_DIRS[split]
            )
            continue
        pairs: Pairs = []
        for path in paths:
            lines, where = read_member_lines(path, path.name)
            pairs.extend(read_amr(lines, where))
        logger.info("%s: %d graphs from %d files", split, len(pairs), len(paths))
        splits[split] = pairs
    write_task(out_dir, splits, "en", TARGET)


def main(argv: Sequence[str] | None = None) -> None:
    """Runs the command line; raises on failure."""
    aux_task_main(__doc__, "--amr", "AMR 2.0 release root", build, argv)


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
