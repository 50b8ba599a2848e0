"""Collect the scores of finished runs into a table like the paper's Table 1.

Every run lives in ``RUNS_DIR/<config>/`` and keeps one JSON file per evaluated split
in ``scores/<split>.json``, as written by ``aiw-score``. This tool makes one row per
configuration (the paper's systems first, in the paper's order, then any others
alphabetically) and a BLEU and a chrF column per split (``valid`` is shown as "Dev",
``test`` as "Test"). A run or split that should exist but does not is logged on stderr
and shown as ``missing`` in the table, so an unfinished sweep is visible at a glance.

Example:
    aiw-results runs --expected mt_only,uniform,uniform_aiw --markdown table1.md
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from fairseq_aiw.analysis._common import AnalysisInputError, run_cli

logger = logging.getLogger(__name__)

#: The paper's systems (Table 1) in its row order, with their display names.
CANONICAL_CONFIGS: dict[str, str] = {
    "mt_only": "MT only",
    "uniform": "Uniform",
    "biased": "Biased",
    "constant": "Constant",
    "exponential": "Exponential",
    "sigmoid": "Sigmoid",
    "biased_aiw": "Biased + AIW",
    "uniform_aiw": "Uniform + AIW",
}

#: Column headings for split names; other splits are shown under their own name.
SPLIT_NAMES: dict[str, str] = {"valid": "Dev", "test": "Test"}

METRICS: tuple[tuple[str, str], ...] = (("bleu", "BLEU"), ("chrf", "chrF"))

MISSING = "missing"


@dataclass(frozen=True)
class Scores:
    """The scores of one run on one split, as read from ``scores/<split>.json``."""

    bleu: float
    chrf: float
    bleu_signature: str | None
    chrf_signature: str | None


@dataclass(frozen=True)
class Row:
    """One configuration: its scores per split, None where the file is missing."""

    config: str
    display_name: str
    scores: dict[str, Scores | None]


def read_scores(path: str | Path) -> Scores:
    """Reads one score file written by ``aiw-score``.

    Args:
        path: A JSON file with numeric ``bleu`` and ``chrf`` fields and, normally,
            ``bleu_signature`` and ``chrf_signature`` strings.

    Returns:
        The scores; a signature is None (and a warning is logged) if absent.

    Raises:
        AnalysisInputError: The file is not JSON or a score field is not a number.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise AnalysisInputError(f"{path}: not valid JSON ({err})") from err
    if not isinstance(data, dict):
        raise AnalysisInputError(f"{path}: expected a JSON object")
    values = {}
    for key, _ in METRICS:
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise AnalysisInputError(f"{path}: field {key!r} missing or not a number")
        values[key] = float(value)
    signatures = [data.get("bleu_signature"), data.get("chrf_signature")]
    if None in signatures:
        logger.warning("%s: no sacrebleu signature; was it written by aiw-score?", path)
    return Scores(values["bleu"], values["chrf"], *signatures)


def find_configs(runs_dir: str | Path) -> list[str]:
    """Lists the configurations under ``runs_dir``: sub-directories with ``scores/``."""
    return [p.name for p in Path(runs_dir).iterdir() if (p / "scores").is_dir()]


def order_configs(configs: Sequence[str]) -> list[str]:
    """Sorts configurations: the paper's systems in its order, then others A-Z."""
    known = [c for c in CANONICAL_CONFIGS if c in configs]
    unknown = sorted(set(configs) - set(CANONICAL_CONFIGS))
    return known + unknown


def collect(
    runs_dir: str | Path, splits: Sequence[str], expected: Sequence[str] = ()
) -> list[Row]:
    """Reads the scores of every configuration found or expected under ``runs_dir``.

    Args:
        runs_dir: Directory holding one sub-directory per configuration.
        splits: Split names to read, e.g. ``["valid", "test"]``.
        expected: Configurations that should exist; they get a row even if absent.

    Returns:
        Rows in canonical order. A missing file gives None for that split and one
        warning line naming the configuration, split and path.

    Raises:
        AnalysisInputError: ``runs_dir`` is not a directory, nothing is found or
            expected, or a score file is malformed.
    """
    if not Path(runs_dir).is_dir():
        raise AnalysisInputError(f"RUNS_DIR {runs_dir}: not a directory")
    configs = order_configs(sorted(set(find_configs(runs_dir)) | set(expected)))
    if not configs:
        raise AnalysisInputError(
            f"RUNS_DIR {runs_dir}: no <config>/scores/ directories and no --expected"
        )
    rows = []
    for config in configs:
        scores: dict[str, Scores | None] = {}
        for split in splits:
            path = Path(runs_dir) / config / "scores" / f"{split}.json"
            if path.is_file():
                scores[split] = read_scores(path)
            else:
                scores[split] = None
                logger.warning("missing run %s, split %s: no %s", config, split, path)
        rows.append(Row(config, CANONICAL_CONFIGS.get(config, config), scores))
    return rows


def _header(splits: Sequence[str]) -> list[str]:
    """Column names after the system name, e.g. ``Dev BLEU``."""
    return [f"{SPLIT_NAMES.get(s, s)} {name}" for s in splits for _, name in METRICS]


def _cells(row: Row, splits: Sequence[str], precision: int) -> list[str]:
    """Formatted score cells of one row; ``missing`` where a split has no file."""
    cells = []
    for split in splits:
        scores = row.scores[split]
        for key, _ in METRICS:
            value = None if scores is None else getattr(scores, key)
            cells.append(MISSING if value is None else f"{value:.{precision}f}")
    return cells


def to_markdown(rows: Sequence[Row], splits: Sequence[str], precision: int = 2) -> str:
    """Renders the rows as a Markdown table followed by the sacrebleu signatures.

    Args:
        rows: Output of ``collect``.
        splits: The splits ``collect`` read, in column order.
        precision: Digits after the decimal point.

    Returns:
        The table, a blank line, then each distinct signature once; newline-terminated.
    """
    header = ["System", *_header(splits)]
    lines = [
        "| " + " | ".join(header) + " |",
        "|:--" + "|--:" * (len(header) - 1) + "|",
    ]
    for row in rows:
        lines.append(
            "| "
            + " | ".join([row.display_name, *_cells(row, splits, precision)])
            + " |"
        )
    return "\n".join(lines) + "\n\n" + _signature_lines(rows, splits)


def _signature_lines(rows: Sequence[Row], splits: Sequence[str]) -> str:
    """One line per metric if all runs share a signature, else one per signature."""
    text = ""
    for attr, name in (("bleu_signature", "BLEU"), ("chrf_signature", "chrF")):
        users: dict[str, list[str]] = {}
        for row in rows:
            for split in splits:
                scores = row.scores[split]
                signature = None if scores is None else getattr(scores, attr)
                if signature is not None:
                    users.setdefault(signature, []).append(f"{row.config}/{split}")
        if len(users) == 1:
            text += f"{name} signature: {next(iter(users))}\n"
        elif users:
            logger.warning(
                "%s signatures differ across runs; see the table notes", name
            )
            text += f"{name} signatures differ, so these scores are not comparable:\n"
            text += "".join(f"- {sig}: {', '.join(u)}\n" for sig, u in users.items())
    return text


def to_tsv(rows: Sequence[Row], splits: Sequence[str]) -> str:
    """Renders the rows as TSV with unrounded scores; a missing score is empty.

    Columns: ``config``, ``system``, then ``<split>_bleu`` and ``<split>_chrf`` per
    split, e.g. ``valid_bleu``.
    """
    header = ["config", "system"] + [f"{s}_{key}" for s in splits for key, _ in METRICS]
    lines = ["\t".join(header)]
    for row in rows:
        values = []
        for split in splits:
            scores = row.scores[split]
            for key, _ in METRICS:
                value = None if scores is None else getattr(scores, key)
                values.append("" if value is None else repr(value))
        lines.append("\t".join([row.config, row.display_name, *values]))
    return "\n".join(lines) + "\n"


def _split_list(text: str) -> list[str]:
    """Parses a comma-separated flag value, dropping empty items."""
    return [item.strip() for item in text.split(",") if item.strip()]


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aiw-results",
        description="Collect RUNS_DIR/<config>/scores/<split>.json files into a "
        "Table-1-like Markdown/TSV table of BLEU and chrF.",
    )
    parser.add_argument(
        "runs_dir", metavar="RUNS_DIR", help="one sub-directory per run"
    )
    parser.add_argument(
        "--splits",
        type=_split_list,
        default=["valid", "test"],
        help="comma-separated splits to show (default: valid,test, shown as Dev,Test)",
    )
    parser.add_argument(
        "--expected",
        type=_split_list,
        default=[],
        metavar="CONFIG,...",
        help="configurations that should exist; each absent run/split is reported",
    )
    parser.add_argument(
        "--markdown", metavar="FILE", help="write the Markdown here (default: stdout)"
    )
    parser.add_argument("--tsv", metavar="FILE", help="also write the table as TSV")
    parser.add_argument(
        "--precision", type=int, default=2, help="decimals in Markdown (default: 2)"
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit with status 1 if anything is missing",
    )
    return parser


def _main(argv: Sequence[str] | None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    if not args.splits:
        parser.error("--splits: give at least one split name")
    rows = collect(args.runs_dir, args.splits, args.expected)
    markdown = to_markdown(rows, args.splits, args.precision)
    if args.markdown is None:
        sys.stdout.write(markdown)
    else:
        Path(args.markdown).write_text(markdown, encoding="utf-8")
    if args.tsv is not None:
        Path(args.tsv).write_text(to_tsv(rows, args.splits), encoding="utf-8")
    n_missing = sum(s is None for row in rows for s in row.scores.values())
    if n_missing:
        logger.warning("%d run/split score file(s) missing", n_missing)
    return 1 if args.strict and n_missing else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Runs ``aiw-results``; see ``aiw-results --help``.

    Args:
        argv: Command-line arguments without the program name (default: sys.argv).

    Returns:
        0 on success (1 with ``--strict`` if anything is missing), 1 on bad input.
    """
    return run_cli(_main, argv, logger)


if __name__ == "__main__":
    sys.exit(main())
