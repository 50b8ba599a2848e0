#!/usr/bin/env python3
"""Build an English->X parallel corpus from a system's compiled gettext catalogs.

Every program translated with GNU gettext ships binary catalogs such as
``/usr/share/locale/vi/LC_MESSAGES/coreutils.mo``. Each entry maps an English
message (``msgid``) to a human translation (``msgstr``), so the catalogs of one
language form a small parallel corpus of software user-interface messages. This
script reads the ``.mo`` files directly (no gettext tools needed), cleans the
messages so that they read as plain sentences, filters them, and writes them out.

Two sub-commands, usually run one after the other::

    gettext_corpus.py extract --locale-dir /usr/share/locale --lang vi --out all
    gettext_corpus.py split --prefix all --tgt vi --out-dir raw/translation

``extract`` writes ``<out>.en`` and ``<out>.<lang>``; ``split`` divides such a pair
of files into ``train``/``valid``/``meta_valid``/``test`` by hashing each source
sentence, so the split is reproducible and does not depend on input order.

Clean-up of one message, in order:

1. The header entry (empty ``msgid``) is skipped; a ``msgctxt`` prefix is dropped;
   plural entries keep the singular ``msgid`` and ``msgstr[0]``.
2. Pango/HTML markup tags (``<b>``, ``<span ...>``, ...) are removed.
3. Format placeholders are removed: printf (``%s``, ``%-10lu``, ``%1$s``,
   ``%<PRIu64>``), Python (``%(name)s``, ``{0}``, ``{name}``), Qt (``%1``) and
   shell (``${VAR}``, ``$VAR``); ``%%`` becomes ``%``. Quotes or brackets that
   only wrapped a placeholder go with it, as does a separator (``:``, ``,``)
   between it and the start or end, and the space before following punctuation.
4. Accelerator marks are removed: ``_File`` and ``&File`` become ``File``, and a
   CJK-style ``(_F)`` suffix is dropped.
5. Character entities (``&amp;``, ``&#39;``) are decoded; whitespace, including
   the newlines of multi-line help texts, is collapsed to single spaces.

Then a pair is dropped if either side is empty, if either side is mostly not
letters (``--min-letter-fraction``), if both sides are the same (untranslated
names), if its source was seen before (first one wins, files are read in sorted
order), or by length: tokens are whitespace-separated words, each side must have
``--min-tokens``..``--max-tokens`` of them and the longer side may be at most
``--max-ratio`` times the shorter. The defaults (1..80 tokens, ratio 3) suit this
domain: many messages are one- or two-word labels ("Open", "Save As"), which a
ratio of 1.5 (the paper's) would mostly discard, since Vietnamese writes one
syllable per token and a single English word often becomes two or three.

Fuzzy translations cannot be detected here: ``msgfmt`` leaves them out of ``.mo``
files unless run with ``--use-fuzzy``, and the binary format keeps no flag.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import hashlib
import html
import logging
import os
import re
import struct
import sys
from pathlib import Path
from typing import Iterable, Sequence

logger = logging.getLogger(__name__)

MO_MAGIC = 0x950412DE
SPLIT_ORDER = ("test", "valid", "meta_valid")  # split sizes are taken in this order

# A sentinel marks where a placeholder was, so tidying can tell removed text from
# punctuation that the translator wrote.
_HOLE = "\x00"
_PERCENT = "\x01"

_MARKUP_RE = re.compile(
    r"</?(?:a|b|big|br|code|em|i|kbd|p|s|small|span|strong|sub|sup|tt|u)"
    r"(?:\s[^<>]*)?/?>",
    re.IGNORECASE,
)
_PLACEHOLDER_RES = (
    # Python %-formatting with a mapping key: %(name)s, %(count)-5d
    re.compile(r"%\([^()\s]+\)[-+#0]*\d*(?:\.\d+)?[a-zA-Z]"),
    # C99 <inttypes.h> macros kept by xgettext: %<PRIu64>, %5<PRId32>
    re.compile(r"%(?:\d+\$)?[-+#0']*\d*(?:\.\d+)?<PRI\w+>"),
    # printf: %s, %1$s, %-10.3lf, %*d, %.*s, %zu, %m, and any other letter, as
    # binutils and the kernel define their own (%B, %pA). No space flag: "50% of"
    # would otherwise lose the "o".
    re.compile(
        r"%(?:\d+\$)?[-+#0']*(?:\d+|\*(?:\d+\$)?)?(?:\.(?:\d+|\*(?:\d+\$)?))?"
        r"(?:hh|ll|I64|I32|[hlLqjzt])?(?:p[A-Z]|[A-Za-z])"
    ),
    # Qt / KDE positional arguments: %1, %2
    re.compile(r"%\d+"),
    # shell variables: ${VAR}, ${1}, $HOME (upper case only, so "$5" stays)
    re.compile(r"\$\{[^{}\s]*\}|\$[A-Z_][A-Z0-9_]*"),
    # str.format fields: {}, {0}, {name}, {0:>5}, {obj.attr!r}
    re.compile(r"\{(?:\d*|[A-Za-z_][\w.]*)(?:![rsa])?(?::[^{}]*)?\}"),
)
_WRAPPERS = ("''", '""', "`'", "‘’", "“”", "«»", "„“", "「」", "()", "[]")
_WRAPPED_HOLE_RE = re.compile(
    "|".join(
        re.escape(open_) + r"\s*" + _HOLE + r"\s*" + re.escape(close)
        for open_, close in _WRAPPERS
    )
)
_HOLE_BEFORE_PUNCT_RE = re.compile(r"\s*" + _HOLE + r"+\s*(?=[,.;:!?)\]…])")
_LEADING_HOLE_RE = re.compile(r"^(?:[\s" + _HOLE + r"]*" + _HOLE + r"\s*[:;,.]?)+")
_TRAILING_HOLE_RE = re.compile(r"(?:[,;:]?[\s" + _HOLE + r"]*" + _HOLE + r"\s*)+$")
_LEADING_SEPARATOR_RE = re.compile(r"^[,;:]+\s+")  # "(%s), alias" left ", alias"
_CJK_ACCEL_RE = re.compile(r"\s*\(_[A-Za-z0-9]\)")
_UNDERSCORE_ACCEL_RE = re.compile(r"(?<!\w)_(?=[^\W_])")
_AMP_ACCEL_RE = re.compile(r"(?:(?<=\s)|^)&(?=[^\W\d_])(?![A-Za-z][A-Za-z0-9]*;)")
_ENTITY_RE = re.compile(r"&(?:#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_SPACE_RE = re.compile(r"\s+")


@dataclasses.dataclass(frozen=True)
class FilterConfig:
    """Which cleaned pairs to keep.

    Attributes:
        min_tokens: fewest whitespace tokens allowed on either side.
        max_tokens: most whitespace tokens allowed on either side.
        max_ratio: largest allowed ``max(src_len, tgt_len) / min(src_len, tgt_len)``
            in tokens; 0 disables the check.
        min_letter_fraction: smallest share of letters among the non-space
            characters of either side; 0 disables the check.
    """

    min_tokens: int = 1
    max_tokens: int = 80
    max_ratio: float = 3.0
    min_letter_fraction: float = 0.5


def read_mo(path: Path) -> list[tuple[str, str]]:
    """Reads the entries of one compiled gettext catalog.

    Args:
        path: a GNU ``.mo`` file, either byte order.

    Returns:
        ``(msgid, msgstr)`` pairs in file order (sorted by msgid), header entry
        included. A ``msgctxt`` prefix is removed; a plural entry yields its
        singular msgid and the first plural form of the translation.

    Raises:
        ValueError: naming the file, if it is not a well-formed ``.mo`` file.
    """
    data = path.read_bytes()
    if len(data) < 20:
        raise ValueError(f"{path}: too short to be a .mo file")
    for order in ("<", ">"):
        if struct.unpack(order + "I", data[:4])[0] == MO_MAGIC:
            break
    else:
        raise ValueError(f"{path}: not a .mo file (bad magic number)")
    _, count, orig_off, trans_off = struct.unpack(order + "4I", data[4:20])

    def table(offset: int) -> list[bytes]:
        strings = []
        for i in range(count):
            length, start = struct.unpack_from(order + "2I", data, offset + 8 * i)
            if start + length > len(data):
                raise ValueError(f"{path}: string {i} runs past the end of the file")
            strings.append(data[start : start + length])
        return strings

    try:
        originals, translations = table(orig_off), table(trans_off)
    except struct.error as err:
        raise ValueError(f"{path}: truncated string table ({err})") from err
    charset = _header_charset(originals, translations)
    entries = []
    for raw_id, raw_str in zip(originals, translations):
        try:
            msgid, msgstr = raw_id.decode(charset), raw_str.decode(charset)
        except (UnicodeDecodeError, LookupError) as err:
            raise ValueError(f"{path}: cannot decode as {charset}: {err}") from err
        msgid = msgid.split("\x04", 1)[-1]  # drop msgctxt
        entries.append((msgid.split("\x00")[0], msgstr.split("\x00")[0]))
    return entries


def _header_charset(originals: list[bytes], translations: list[bytes]) -> str:
    """Returns the charset that the header entry declares, UTF-8 by default."""
    for raw_id, raw_str in zip(originals, translations):
        if raw_id == b"":
            match = re.search(rb"charset=([\w.:-]+)", raw_str)
            if match and match.group(1).lower() != b"charset":
                return match.group(1).decode("ascii")
    return "utf-8"


def clean_message(text: str) -> str:
    """Turns one catalog message into plain text (steps 2-5 of the module doc).

    Args:
        text: a msgid or msgstr as stored in the catalog.

    Returns:
        The cleaned text on one line; may be empty.
    """
    text = _MARKUP_RE.sub("", text)
    text = text.replace("%%", _PERCENT)
    for pattern in _PLACEHOLDER_RES:
        text = pattern.sub(_HOLE, text)
    text = text.replace(_PERCENT, "%")
    text = _CJK_ACCEL_RE.sub("", text)
    text = _UNDERSCORE_ACCEL_RE.sub("", text)
    text = _AMP_ACCEL_RE.sub("", text)
    text = _ENTITY_RE.sub(lambda m: html.unescape(m.group(0)), text)
    return _tidy_holes(text)


def _tidy_holes(text: str) -> str:
    """Removes placeholder sentinels and the punctuation they leave dangling."""
    previous = None
    while previous != text:  # "'%s' (%s)" needs more than one pass
        previous = text
        text = _WRAPPED_HOLE_RE.sub(_HOLE, text)
    text = _LEADING_HOLE_RE.sub("", text)
    text = _TRAILING_HOLE_RE.sub("", text)
    text = _HOLE_BEFORE_PUNCT_RE.sub("", text)
    text = _SPACE_RE.sub(" ", text.replace(_HOLE, " ")).strip()
    return _LEADING_SEPARATOR_RE.sub("", text)


def letter_fraction(text: str) -> float:
    """Returns the share of letters among the non-space characters of ``text``."""
    chars = [c for c in text if not c.isspace()]
    if not chars:
        return 0.0
    return sum(c.isalpha() for c in chars) / len(chars)


def drop_reason(src: str, tgt: str, config: FilterConfig) -> str | None:
    """Says why a cleaned pair fails the filters, or ``None`` if it passes.

    Duplicates are not checked here; see :func:`extract_pairs`.
    """
    if not src or not tgt:
        return "empty_after_cleaning"
    if (
        config.min_letter_fraction > 0
        and min(letter_fraction(src), letter_fraction(tgt)) < config.min_letter_fraction
    ):
        return "mostly_non_letters"
    if src.casefold() == tgt.casefold():
        return "identical"
    src_len, tgt_len = len(src.split()), len(tgt.split())
    if min(src_len, tgt_len) < config.min_tokens:
        return "too_short"
    if max(src_len, tgt_len) > config.max_tokens:
        return "too_long"
    if config.max_ratio > 0 and max(src_len, tgt_len) > config.max_ratio * min(
        src_len, tgt_len
    ):
        return "length_ratio"
    return None


def extract_pairs(
    entries: Iterable[tuple[str, str]], config: FilterConfig
) -> tuple[list[tuple[str, str]], collections.Counter[str]]:
    """Cleans, filters and de-duplicates catalog entries.

    Args:
        entries: raw ``(msgid, msgstr)`` pairs, in the order that decides which
            of several pairs with the same cleaned source is kept (the first).
        config: the filters.

    Returns:
        The kept ``(src, tgt)`` pairs in input order, and a counter of
        ``"read"``, ``"kept"`` and each drop reason.
    """
    counts: collections.Counter[str] = collections.Counter()
    seen: set[str] = set()
    pairs = []
    for msgid, msgstr in entries:
        counts["read"] += 1
        if not msgid:
            counts["header"] += 1
            continue
        if not msgstr.strip():
            counts["untranslated"] += 1
            continue
        src, tgt = clean_message(msgid), clean_message(msgstr)
        reason = drop_reason(src, tgt, config)
        if reason is None and src in seen:
            reason = "duplicate_source"
        if reason is not None:
            counts[reason] += 1
            continue
        seen.add(src)
        pairs.append((src, tgt))
    counts["kept"] = len(pairs)
    return pairs, counts


def find_catalogs(locale_dir: Path, lang: str, domains: Sequence[str]) -> list[Path]:
    """Lists the ``.mo`` files of one language, sorted by file name.

    Args:
        locale_dir: e.g. ``/usr/share/locale``.
        lang: the locale directory name, e.g. ``vi`` or ``pt_BR``.
        domains: if not empty, only these domains (file names without ``.mo``).

    Raises:
        FileNotFoundError: naming the directory or the missing domain.
    """
    catalog_dir = locale_dir / lang / "LC_MESSAGES"
    paths = sorted(catalog_dir.glob("*.mo"))
    if not paths:
        raise FileNotFoundError(f"no .mo files in {catalog_dir} (--locale-dir/--lang)")
    if domains:
        by_name = {p.stem: p for p in paths}
        missing = [d for d in domains if d not in by_name]
        if missing:
            raise FileNotFoundError(f"--domains: no {missing} in {catalog_dir}")
        paths = [by_name[d] for d in sorted(domains)]
    return paths


def split_key(src: str, seed: int) -> str:
    """Returns the hash that orders a pair for splitting."""
    return hashlib.sha256(f"{seed}\x00{src}".encode("utf-8")).hexdigest()


def split_pairs(
    pairs: Sequence[tuple[str, str]], sizes: dict[str, int], seed: int
) -> dict[str, list[tuple[str, str]]]:
    """Divides pairs into held-out sets of fixed sizes and a training set.

    Pairs are ordered by :func:`split_key` of their source; the first
    ``sizes["test"]`` go to test, the next to valid, then meta_valid, the rest
    to train. Within each split the input order is kept.

    Args:
        pairs: ``(src, tgt)`` pairs with distinct sources.
        sizes: number of pairs for each of ``test``, ``valid``, ``meta_valid``.
        seed: changes the hash, hence which pairs are held out.

    Returns:
        ``{"train": [...], "valid": [...], "meta_valid": [...], "test": [...]}``.

    Raises:
        ValueError: if the held-out sets would leave no training data.
    """
    held_out = sum(sizes[name] for name in SPLIT_ORDER)
    if held_out >= len(pairs):
        raise ValueError(
            f"--test-size/--valid-size/--meta-valid-size ask for {held_out} pairs "
            f"but there are only {len(pairs)}"
        )
    ranked = sorted(range(len(pairs)), key=lambda i: split_key(pairs[i][0], seed))
    assignment = {}
    start = 0
    for name in SPLIT_ORDER:
        for i in ranked[start : start + sizes[name]]:
            assignment[i] = name
        start += sizes[name]
    splits: dict[str, list[tuple[str, str]]] = {
        name: [] for name in ("train", "valid", "meta_valid", "test")
    }
    for i, pair in enumerate(pairs):
        splits[assignment.get(i, "train")].append(pair)
    return splits


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


def read_parallel(prefix: str, src: str, tgt: str) -> list[tuple[str, str]]:
    """Reads ``<prefix>.<src>`` and ``<prefix>.<tgt>`` as aligned pairs.

    Raises:
        ValueError: naming the files, if their line counts differ.
    """
    src_path, tgt_path = Path(f"{prefix}.{src}"), Path(f"{prefix}.{tgt}")
    src_lines = src_path.read_text(encoding="utf-8").splitlines()
    tgt_lines = tgt_path.read_text(encoding="utf-8").splitlines()
    if len(src_lines) != len(tgt_lines):
        raise ValueError(
            f"{src_path} has {len(src_lines)} lines but {tgt_path} has {len(tgt_lines)}"
        )
    return list(zip(src_lines, tgt_lines))


def run_extract(args: argparse.Namespace) -> None:
    """The ``extract`` sub-command."""
    config = FilterConfig(
        min_tokens=args.min_tokens,
        max_tokens=args.max_tokens,
        max_ratio=args.max_ratio,
        min_letter_fraction=args.min_letter_fraction,
    )
    paths = find_catalogs(Path(args.locale_dir), args.lang, args.domains)
    logger.info("reading %d catalogs from %s", len(paths), paths[0].parent)
    entries: list[tuple[str, str]] = []
    for path in paths:
        entries.extend(read_mo(path))
    pairs, counts = extract_pairs(entries, config)
    for reason, count in sorted(counts.items()):
        logger.info("%-22s %7d", reason, count)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_lines(Path(f"{out}.{args.src}"), (s for s, _ in pairs))
    write_lines(Path(f"{out}.{args.lang}"), (t for _, t in pairs))
    logger.info("wrote %d pairs to %s.{%s,%s}", len(pairs), out, args.src, args.lang)


def run_split(args: argparse.Namespace) -> None:
    """The ``split`` sub-command."""
    pairs = read_parallel(args.prefix, args.src, args.tgt)
    sources = [s for s, _ in pairs]
    if len(set(sources)) != len(sources):
        raise ValueError(f"{args.prefix}.{args.src}: repeated source lines")
    sizes = {
        "test": args.test_size,
        "valid": args.valid_size,
        "meta_valid": args.meta_valid_size,
    }
    for name, size in sizes.items():
        if size < 0:
            flag = "--" + name.replace("_", "-") + "-size"
            raise ValueError(f"{flag} must be >= 0, got {size}")
    splits = split_pairs(pairs, sizes, args.seed)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, split in splits.items():
        write_lines(out_dir / f"{name}.{args.src}", (s for s, _ in split))
        write_lines(out_dir / f"{name}.{args.tgt}", (t for _, t in split))
        logger.info("%-10s %7d pairs", name, len(split))


class _HelpFormatter(
    argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter
):
    """Shows defaults and keeps the description's line breaks."""


def build_parser() -> argparse.ArgumentParser:
    """Returns the command-line parser."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=_HelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    _add_extract_parser(commands)
    _add_split_parser(commands)
    return parser


def _add_extract_parser(commands) -> None:
    """Adds the ``extract`` sub-command and its flags."""
    extract = commands.add_parser(
        "extract",
        help="read, clean and filter the catalogs of one language",
        formatter_class=_HelpFormatter,
    )
    extract.add_argument(
        "--locale-dir", default="/usr/share/locale", help="holds LANG/LC_MESSAGES"
    )
    extract.add_argument("--lang", required=True, help="target locale, e.g. vi")
    extract.add_argument("--src", default="en", help="file suffix of the msgid side")
    extract.add_argument("--out", required=True, help="writes OUT.SRC and OUT.LANG")
    extract.add_argument(
        "--domains", nargs="*", default=[], help="only these catalogs (no .mo)"
    )
    defaults = FilterConfig()
    extract.add_argument(
        "--min-tokens", type=int, default=defaults.min_tokens, help="per side"
    )
    extract.add_argument(
        "--max-tokens", type=int, default=defaults.max_tokens, help="per side"
    )
    extract.add_argument(
        "--max-ratio",
        type=float,
        default=defaults.max_ratio,
        help="longest/shortest side in tokens; 0 = no limit",
    )
    extract.add_argument(
        "--min-letter-fraction",
        type=float,
        default=defaults.min_letter_fraction,
        help="share of letters among non-space characters; 0 = no limit",
    )
    extract.set_defaults(func=run_extract)


def _add_split_parser(commands) -> None:
    """Adds the ``split`` sub-command and its flags."""
    split = commands.add_parser(
        "split",
        help="divide PREFIX.{SRC,TGT} into train/valid/meta_valid/test",
        formatter_class=_HelpFormatter,
    )
    split.add_argument("--prefix", required=True, help="reads PREFIX.SRC, PREFIX.TGT")
    split.add_argument("--src", default="en", help="source file suffix")
    split.add_argument("--tgt", required=True, help="target file suffix, e.g. vi")
    split.add_argument("--out-dir", required=True, help="writes SPLIT.SRC, SPLIT.TGT")
    split.add_argument("--test-size", type=int, default=500, help="pairs")
    split.add_argument("--valid-size", type=int, default=400, help="pairs")
    split.add_argument("--meta-valid-size", type=int, default=200, help="pairs")
    split.add_argument("--seed", type=int, default=1, help="salt of the split hash")
    split.set_defaults(func=run_split)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the command line; returns the exit status."""
    logging.basicConfig(
        format="%(asctime)s | %(levelname)s | %(name)s | %(message)s",
        level=logging.INFO,
    )
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except (OSError, ValueError) as err:
        logger.error("%s", err)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
