#!/usr/bin/env python3
"""Build the main task's raw text for one language pair of the paper.

Reads the downloaded corpus files (see ``sources.tsv``) and writes
``OUT/{train,valid,meta_valid,test}.{en,XX}``, one sentence per line, the layout
``binarize.py`` reads. The three pairs follow section 3.1 of the paper:

``en-vi``
    IWSLT 2015 English-Vietnamese TED talks as preprocessed (Moses-tokenised) by
    the Stanford NMT group: ``train`` (133K pairs) is their train set;
    ``tst2012`` (1,553 pairs) is split 2:1 by position, the first
    ``n - n // 3`` lines (1,036) becoming ``valid`` and the last ``n // 3``
    (517) ``meta_valid``, so whole talks stay together and the split is the same
    on every run; ``tst2013`` (1,268 pairs) is ``test``. The release writes
    ``& | < > ' " [ ]`` as Moses's escapes (``&amp;`` ``&#124;`` ``&lt;`` ``&gt;``
    ``&apos;`` ``&quot;`` ``&#91;`` ``&#93;``); they are turned back into the
    characters, so all tasks share one plain-text vocabulary.
``en-tr``
    WMT news English-Turkish: ``train`` is SETIMES2 (207K pairs, the only
    parallel corpus of WMT 2016-2018 for this pair); ``valid``, ``meta_valid``
    and ``test`` are newstest2016, newstest2017 and newstest2018, read from the
    SGML files of the WMT test archives.
``en-es``
    Europarl v7 English-Spanish: ``train`` is the first ``--europarl-pairs``
    (150,000) line pairs of the release, taken before filtering; ``valid``,
    ``meta_valid`` and ``test`` are newstest2011, 2012 and 2013 (SGML).

SGML files are read segment by segment: every ``<seg id=..>`` must sit inside a
``<doc docid=..>`` on one line, the source and reference files must hold the
same documents and segment ids in the same order, and any other line must be a
lone tag; otherwise the script stops, naming the file and line. XML character
entities in the text (``&amp;``, ``&#39;``) are decoded.

Only ``train`` is filtered, the way Moses's ``clean-corpus-n.perl`` does with
``MIN=1 MAX=--max-tokens`` and ``-ratio --max-ratio``: tokens are the
white-space separated words of each side, and a pair is dropped if a side has
none or more than ``--max-tokens``, if the longer side has more than
``--max-ratio`` times the tokens of the shorter (either direction), or if a word
is longer than 1,000 characters (Moses's ``-max-word-length`` default). The one
difference is what a token is: Moses users run it on tokenised text, where
punctuation counts as a token. That is the case for the IWSLT release; the WMT
and Europarl text is used untokenised (SentencePiece needs no tokeniser), so its
counts are a little lower than Moses's would be and slightly fewer pairs are
dropped. Held-out sets are never filtered. In every split, each run of white
space (including stray carriage returns and Unicode line separators) becomes
one space.

The output directory is written atomically and left alone if it exists.

Example::

    translation_corpus.py en-vi --downloads work/downloads --out work/raw/translation
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import html
import logging
import re
from pathlib import Path
from typing import Callable, Sequence

from fetch import find_source, read_sources
from prep_io import Pairs, normalise_space, read_member_lines, run_cli, write_task

logger = logging.getLogger(__name__)

PAIRS = ("en-vi", "en-tr", "en-es")
DEFAULT_SOURCES = Path(__file__).resolve().parent / "sources.tsv"
MAX_WORD_CHARS = 1000  # Moses clean-corpus-n.perl's -max-word-length default

_ENTITY_RE = re.compile(r"&(?:amp|lt|gt|quot|apos|#\d+|#[xX][0-9a-fA-F]+);")
_SEG_RE = re.compile(r"^\s*<seg\b([^<>]*)>(.*)</seg>\s*$", re.IGNORECASE)
_DOC_RE = re.compile(r"^\s*<doc\b([^<>]*)>\s*$", re.IGNORECASE)
_END_DOC_RE = re.compile(r"^\s*</doc\s*>\s*$", re.IGNORECASE)
_TAG_LINE_RE = re.compile(r"^\s*</?[A-Za-z][\w-]*(?:\s[^<>]*)?/?>\s*$")


@dataclasses.dataclass(frozen=True)
class CleanConfig:
    """The training-data filter of ``clean-corpus-n.perl``, as in the paper.

    Attributes:
        min_tokens: fewest white-space tokens on either side.
        max_tokens: most white-space tokens on either side.
        max_ratio: largest allowed ``longer / shorter`` side length in tokens;
            0 disables the check.
    """

    min_tokens: int = 1
    max_tokens: int = 250
    max_ratio: float = 1.5


def unescape_entities(text: str) -> str:
    """Decodes the XML character entities: the five named ones and numeric ones.

    Other ``&`` sequences (``AT&T``, ``&nbsp;``) are left as they are; each
    entity is decoded once, so ``&amp;lt;`` becomes ``&lt;``.
    """
    return _ENTITY_RE.sub(lambda match: html.unescape(match.group(0)), text)


def drop_reason(src: str, tgt: str, config: CleanConfig) -> str | None:
    """Says why a training pair fails the filter, or ``None`` if it is kept."""
    src_words, tgt_words = src.split(), tgt.split()
    shorter, longer = sorted((len(src_words), len(tgt_words)))
    if shorter < config.min_tokens:
        return "too_short"
    if longer > config.max_tokens:
        return "too_long"
    if config.max_ratio > 0 and longer > config.max_ratio * shorter:
        return "length_ratio"
    if any(len(word) > MAX_WORD_CHARS for word in src_words + tgt_words):
        return "long_word"
    return None


def clean_pairs(pairs: Pairs, config: CleanConfig) -> tuple[Pairs, collections.Counter]:
    """Filters training pairs like ``clean-corpus-n.perl`` (module docstring).

    Returns:
        The kept pairs in input order, and a counter of ``"read"``, ``"kept"``
        and each drop reason.
    """
    counts: collections.Counter[str] = collections.Counter(read=len(pairs))
    kept = []
    for src, tgt in pairs:
        reason = drop_reason(src, tgt, config)
        if reason is None:
            kept.append((src, tgt))
        else:
            counts[reason] += 1
    counts["kept"] = len(kept)
    return kept, counts


def split_two_to_one(pairs: Pairs) -> tuple[Pairs, Pairs]:
    """Splits a held-out set 2:1 by position into valid and meta_valid.

    Returns:
        The first ``n - n // 3`` pairs and the last ``n // 3``.
    """
    cut = len(pairs) - len(pairs) // 3
    return pairs[:cut], pairs[cut:]


@dataclasses.dataclass(frozen=True)
class Segment:
    """One ``<seg>`` of a WMT SGML file."""

    docid: str
    segid: str
    text: str


def _attribute(attributes: str, name: str) -> str | None:
    """Returns the value of ``name=".."`` (any quoting) in a tag's attributes."""
    match = re.search(
        rf"(?:^|\s){name}\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'>]+))",
        attributes,
        re.IGNORECASE,
    )
    return None if match is None else next(g for g in match.groups() if g is not None)


def read_sgml(lines: Sequence[str], where: str) -> list[Segment]:
    """Reads the segments of a WMT source or reference SGML file.

    Args:
        lines: the file's lines.
        where: the file's name for messages.

    Returns:
        The segments in file order, text entity-decoded and space-normalised.

    Raises:
        ValueError: naming ``where`` and the line, for a ``<seg>`` outside a
            document or without an id, a repeated id, an unclosed ``<seg>`` or
            ``<doc>``, a line that is neither a tag nor a segment, or no
            segments at all.
    """
    segments: list[Segment] = []
    seen: set[tuple[str, str]] = set()
    docid: str | None = None
    for number, line in enumerate(lines, 1):
        at = f"{where}:{number}"
        if match := _SEG_RE.match(line):
            segid = _attribute(match.group(1), "id")
            if docid is None or segid is None:
                raise ValueError(f"{at}: <seg> outside a <doc> or without an id")
            if "<seg" in match.group(2).lower() or (docid, segid) in seen:
                raise ValueError(f"{at}: two <seg> on one line, or a repeated id")
            seen.add((docid, segid))
            text = normalise_space(unescape_entities(match.group(2)))
            segments.append(Segment(docid, segid, text))
        elif match := _DOC_RE.match(line):
            if docid is not None:
                raise ValueError(f"{at}: <doc> inside <doc docid={docid!r}>")
            docid = _attribute(match.group(1), "docid")
            if docid is None:
                raise ValueError(f"{at}: <doc> without a docid")
        elif _END_DOC_RE.match(line):
            if docid is None:
                raise ValueError(f"{at}: </doc> without a <doc>")
            docid = None
        elif line.strip() and not _TAG_LINE_RE.match(line):
            what = "unclosed <seg>" if line.lstrip().startswith("<seg") else "not SGML"
            raise ValueError(f"{at}: {what}: {line[:60]!r}")
    if docid is not None:
        raise ValueError(f"{where}: <doc docid={docid!r}> is never closed")
    if not segments:
        raise ValueError(f"{where}: no <seg> found")
    return segments


def pair_segments(
    src: list[Segment], ref: list[Segment], src_where: str, ref_where: str
) -> Pairs:
    """Pairs source and reference segments, which must share documents and ids.

    Raises:
        ValueError: naming both files and the first segment that differs.
    """
    for i in range(max(len(src), len(ref))):
        a = (src[i].docid, src[i].segid) if i < len(src) else None
        b = (ref[i].docid, ref[i].segid) if i < len(ref) else None
        if a != b:
            raise ValueError(
                f"{src_where} and {ref_where} differ at segment {i + 1}: "
                f"(docid, id) {a} vs {b}"
            )
    return [(s.text, r.text) for s, r in zip(src, ref)]


class Downloads:
    """Finds the downloaded files by their ``sources.tsv`` names.

    Args:
        folder: the downloads folder (or ``--offline DIR``).
        sources: the ``sources.tsv`` file.
    """

    def __init__(self, folder: Path, sources: Path):
        self.folder = folder
        self.sources_path = sources
        self.sources = read_sources(sources)

    def path(self, name: str) -> Path:
        """Returns the local path of the file called ``name`` in sources.tsv."""
        return self.folder / find_source(self.sources, name, self.sources_path).file

    def plain(
        self, src: tuple[str, str], tgt: tuple[str, str], limit: int | None = None
    ) -> Pairs:
        """Reads line-aligned text; each side is ``(source name, member name)``.

        Raises:
            ValueError: naming both files, if their line counts differ.
        """
        src_lines, src_where = read_member_lines(self.path(src[0]), src[1], limit)
        tgt_lines, tgt_where = read_member_lines(self.path(tgt[0]), tgt[1], limit)
        if len(src_lines) != len(tgt_lines):
            raise ValueError(
                f"{src_where} has {len(src_lines)} lines but {tgt_where} has "
                f"{len(tgt_lines)}"
            )
        pairs = zip(src_lines, tgt_lines)
        return [(normalise_space(s), normalise_space(t)) for s, t in pairs]

    def sgml(self, archive: str, src_member: str, ref_member: str) -> Pairs:
        """Reads a source and a reference SGML file from one archive."""
        src_lines, src_where = read_member_lines(self.path(archive), src_member)
        ref_lines, ref_where = read_member_lines(self.path(archive), ref_member)
        return pair_segments(
            read_sgml(src_lines, src_where),
            read_sgml(ref_lines, ref_where),
            src_where,
            ref_where,
        )


def build_en_vi(files: Downloads, europarl_pairs: int) -> dict[str, Pairs]:
    """IWSLT15 En-Vi, Moses escapes decoded, tst2012 split 2:1 (module doc)."""
    del europarl_pairs  # the same signature for every pair

    def read(split: str) -> Pairs:
        pairs = files.plain(
            (f"iwslt15_{split}_en", files.path(f"iwslt15_{split}_en").name),
            (f"iwslt15_{split}_vi", files.path(f"iwslt15_{split}_vi").name),
        )
        return [
            (
                normalise_space(unescape_entities(s)),
                normalise_space(unescape_entities(t)),
            )
            for s, t in pairs
        ]

    valid, meta_valid = split_two_to_one(read("tst2012"))
    return {
        "train": read("train"),
        "valid": valid,
        "meta_valid": meta_valid,
        "test": read("tst2013"),
    }


def build_en_tr(files: Downloads, europarl_pairs: int) -> dict[str, Pairs]:
    """SETIMES2 En-Tr with newstest2016/2017/2018 (module doc)."""
    del europarl_pairs
    splits = {
        "train": files.plain(
            ("setimes2_en_tr", "SETIMES.en-tr.en"),
            ("setimes2_en_tr", "SETIMES.en-tr.tr"),
        )
    }
    for split, year in (("valid", 16), ("meta_valid", 17), ("test", 18)):
        splits[split] = files.sgml(
            f"wmt{year}_test",
            f"newstest20{year}-entr-src.en.sgm",
            f"newstest20{year}-entr-ref.tr.sgm",
        )
    return splits


def build_en_es(files: Downloads, europarl_pairs: int) -> dict[str, Pairs]:
    """The first Europarl v7 En-Es pairs with newstest2011/2012/2013 (module doc)."""
    splits = {
        "train": files.plain(
            ("europarl_v7_es_en", "europarl-v7.es-en.en"),
            ("europarl_v7_es_en", "europarl-v7.es-en.es"),
            limit=europarl_pairs,
        )
    }
    for split, year in (("valid", 11), ("meta_valid", 12), ("test", 13)):
        splits[split] = files.sgml(
            f"wmt{year}_test",
            f"newstest20{year}-src.en.sgm",
            f"newstest20{year}-src.es.sgm",
        )
    return splits


BUILDERS: dict[str, Callable[[Downloads, int], dict[str, Pairs]]] = {
    "en-vi": build_en_vi,
    "en-tr": build_en_tr,
    "en-es": build_en_es,
}


def build(
    pair: str,
    files: Downloads,
    out_dir: Path,
    config: CleanConfig,
    europarl_pairs: int = 150_000,
) -> None:
    """Reads, filters and writes one language pair (module docstring).

    Raises:
        ValueError, FileNotFoundError: naming the offending file.
    """
    splits = BUILDERS[pair](files, europarl_pairs)
    splits["train"], counts = clean_pairs(splits["train"], config)
    for reason, count in sorted(counts.items()):
        logger.info("train %-14s %8d", reason, count)
    for split, pairs in splits.items():
        if not pairs:
            raise ValueError(f"{pair}: split {split} is empty after reading/filtering")
    write_task(out_dir, splits, "en", pair.split("-")[1])


def build_parser() -> argparse.ArgumentParser:
    """Returns the command-line parser."""
    defaults = CleanConfig()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("pair", choices=PAIRS, help="the language pair")
    parser.add_argument("--downloads", required=True, help="folder of fetch.py")
    parser.add_argument("--out", required=True, help="task folder to write")
    parser.add_argument(
        "--sources", default=str(DEFAULT_SOURCES), help="sources.tsv (file names)"
    )
    parser.add_argument(
        "--max-tokens",
        type=int,
        default=defaults.max_tokens,
        help=f"train: most tokens per side (default {defaults.max_tokens})",
    )
    parser.add_argument(
        "--max-ratio",
        type=float,
        default=defaults.max_ratio,
        help=f"train: longest/shortest side, 0 = no limit "
        f"(default {defaults.max_ratio})",
    )
    parser.add_argument(
        "--europarl-pairs",
        type=int,
        default=150_000,
        help="en-es: train on the first N line pairs (default 150000)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Runs the command line; raises on failure."""
    args = build_parser().parse_args(argv)
    out = Path(args.out)
    if out.exists():
        logger.info("%s exists; remove it to rebuild", out)
        return
    for flag, value in (
        ("--max-tokens", args.max_tokens),
        ("--europarl-pairs", args.europarl_pairs),
    ):
        if value < 1:
            raise ValueError(f"{flag} must be >= 1, got {value}")
    if args.max_ratio != 0 and args.max_ratio < 1:
        raise ValueError(f"--max-ratio must be 0 (off) or >= 1, got {args.max_ratio}")
    config = CleanConfig(max_tokens=args.max_tokens, max_ratio=args.max_ratio)
    files = Downloads(Path(args.downloads), Path(args.sources))
    build(args.pair, files, out, config, args.europarl_pairs)


if __name__ == "__main__":
    raise SystemExit(run_cli(main))
