"""Plot how AIW weighted each task over training, like the paper's Figures 1 and 4.

During training with adaptive importance weighting (AIW) every example gets a final
weight ``1 + w_i``. Training writes a TSV that summarises these weights per task over
chunks of updates (the paper uses 200), one row per task per chunk::

    update  task  mean_weight  zero_fraction  num_examples

``update`` is the last update of the chunk, ``mean_weight`` the mean of ``1 + w_i``
over that task's examples in the chunk, ``zero_fraction`` the share of those examples
with ``w_i = 0`` and ``num_examples`` how many there were. This module reads that file
and draws one line per task against the update number.

Example:
    aiw-plot-weights runs/uniform_aiw/aiw_weights.tsv --out figure4.png
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fairseq_aiw.analysis._common import AnalysisInputError, read_lines, run_cli

logger = logging.getLogger(__name__)

HEADER: tuple[str, ...] = (
    "update",
    "task",
    "mean_weight",
    "zero_fraction",
    "num_examples",
)

_Y_LABELS = {
    "mean_weight": "average weight (1 + w)",
    "zero_fraction": "fraction of examples with w = 0",
}


@dataclass
class WeightSeries:
    """The chunk summaries of one task, sorted by update (parallel lists)."""

    task: str
    updates: list[int] = field(default_factory=list)
    mean_weight: list[float] = field(default_factory=list)
    zero_fraction: list[float] = field(default_factory=list)
    num_examples: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Record:
    update: int
    task: str
    mean_weight: float
    zero_fraction: float
    num_examples: int


def _parse_row(path: str | Path, lineno: int, line: str) -> _Record:
    """Parses and checks one data row; errors name the file, line and problem."""
    fields = line.split("\t")

    def bad(reason: str) -> AnalysisInputError:
        return AnalysisInputError(f"{path}:{lineno}: {reason}: {line!r}")

    if len(fields) != len(HEADER):
        raise bad(f"expected {len(HEADER)} tab-separated fields, got {len(fields)}")
    update, task, mean_weight, zero_fraction, num_examples = fields
    try:
        record = _Record(
            int(update),
            task,
            float(mean_weight),
            float(zero_fraction),
            int(num_examples),
        )
    except ValueError as err:
        raise bad(f"bad number ({err})") from err
    if record.update < 0 or record.num_examples < 0:
        raise bad("update and num_examples must be >= 0")
    if not task:
        raise bad("empty task name")
    if not math.isnan(record.zero_fraction) and not 0 <= record.zero_fraction <= 1:
        raise bad("zero_fraction must lie in [0, 1]")
    return record


def _check_header(path: str | Path, lines: Sequence[str]) -> None:
    """Raises unless the first line is exactly the expected header."""
    expected = "\t".join(HEADER)
    if not lines:
        raise AnalysisInputError(f"{path}: empty file; expected header {expected!r}")
    if lines[0] != expected:
        raise AnalysisInputError(
            f"{path}:1: bad header {lines[0]!r}; expected {expected!r}"
        )


def read_weights_tsv(path: str | Path) -> dict[str, WeightSeries]:
    """Reads an AIW weights TSV into one series per task.

    Blank lines are skipped. If a (task, update) pair occurs twice, as after a resumed
    run re-logs a chunk, the later row wins and a warning is logged.

    Args:
        path: A TSV whose header is ``update, task, mean_weight, zero_fraction,
            num_examples`` (tab-separated). ``nan`` is accepted for the two means.

    Returns:
        Series keyed by task, in order of first appearance, each sorted by update.

    Raises:
        AnalysisInputError: The file is unreadable, its header differs, or a row is
            malformed; the message names the file and line.
    """
    lines = read_lines(path)
    _check_header(path, lines)
    records: dict[str, dict[int, _Record]] = {}
    n_duplicates = 0
    for lineno, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        record = _parse_row(path, lineno, line)
        by_update = records.setdefault(record.task, {})
        n_duplicates += record.update in by_update
        by_update[record.update] = record
    if n_duplicates:
        logger.warning(
            "%s: %d repeated (task, update) rows; kept the later", path, n_duplicates
        )
    return {task: _to_series(task, by_update) for task, by_update in records.items()}


def _to_series(task: str, by_update: dict[int, _Record]) -> WeightSeries:
    """Turns one task's records into update-sorted parallel lists."""
    series = WeightSeries(task)
    for update in sorted(by_update):
        record = by_update[update]
        series.updates.append(record.update)
        series.mean_weight.append(record.mean_weight)
        series.zero_fraction.append(record.zero_fraction)
        series.num_examples.append(record.num_examples)
    return series


def plot_weights(
    series: dict[str, WeightSeries],
    out: str | Path,
    tasks: Sequence[str] | None = None,
    title: str | None = None,
    column: str = "mean_weight",
) -> Path:
    """Draws one line per task against the update number and saves a PNG.

    Uses matplotlib's Agg canvas directly, so it neither needs a display nor changes
    the pyplot backend of the calling process.

    Args:
        series: Output of ``read_weights_tsv``.
        out: Where to write the PNG; parent directories are created.
        tasks: Tasks to draw, in legend order (default: all, in file order).
        title: Figure title (default: one describing ``column``).
        column: ``mean_weight`` (the paper's figures) or ``zero_fraction``.

    Returns:
        The path written.

    Raises:
        AnalysisInputError: A requested task is absent or ``column`` is unknown.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if column not in _Y_LABELS:
        raise AnalysisInputError(
            f"column {column!r}: expected one of {list(_Y_LABELS)}"
        )
    tasks = list(series) if tasks is None else list(tasks)
    unknown = [t for t in tasks if t not in series]
    if unknown:
        raise AnalysisInputError(
            f"tasks {unknown} not in the data; have {list(series)}"
        )
    fig = Figure(figsize=(7.0, 4.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for task in tasks:
        s = series[task]
        marker = "o" if len(s.updates) <= 50 else None
        ax.plot(s.updates, getattr(s, column), marker=marker, markersize=3, label=task)
    if column == "mean_weight":
        ax.axhline(
            1.0, color="grey", linestyle=":", linewidth=1, label="no boost (w = 0)"
        )
    ax.set_xlabel("update")
    ax.set_ylabel(_Y_LABELS[column])
    ax.set_title(title or f"AIW: {_Y_LABELS[column]} per task over training")
    ax.grid(True, alpha=0.3)
    ax.legend(title="task")
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=150, format="png")
    return Path(out)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aiw-plot-weights",
        description="Plot the average AIW weight of each task against the update "
        "number (the paper's Figures 1 and 4) from the weights TSV written during "
        "training.",
    )
    parser.add_argument("weights_tsv", help="TSV with header " + ", ".join(HEADER))
    parser.add_argument(
        "--out", metavar="PNG", help="output image (default: WEIGHTS_TSV with .png)"
    )
    parser.add_argument(
        "--tasks",
        metavar="TASK,...",
        help="comma-separated tasks to plot (default: all)",
    )
    parser.add_argument("--title", help="figure title")
    parser.add_argument(
        "--column",
        choices=sorted(_Y_LABELS),
        default="mean_weight",
        help="what to plot (default: %(default)s)",
    )
    return parser


def _main(argv: Sequence[str] | None) -> int:
    args = _build_parser().parse_args(argv)
    series = read_weights_tsv(args.weights_tsv)
    if not series:
        raise AnalysisInputError(f"{args.weights_tsv}: header only, no data rows")
    tasks = None
    if args.tasks is not None:
        tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
        unknown = [t for t in tasks if t not in series]
        if unknown or not tasks:
            raise AnalysisInputError(
                f"--tasks {args.tasks}: {unknown or 'empty'} not in "
                f"{args.weights_tsv}, which has {', '.join(series)}"
            )
    out = args.out or Path(args.weights_tsv).with_suffix(".png")
    written = plot_weights(
        series, out, tasks=tasks, title=args.title, column=args.column
    )
    logger.info("wrote %s (%s)", written, ", ".join(tasks or series))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Runs ``aiw-plot-weights``; see ``aiw-plot-weights --help``.

    Args:
        argv: Command-line arguments without the program name (default: sys.argv).

    Returns:
        0 on success, 1 when the input file or a flag is unusable (the error is logged).
    """
    return run_cli(_main, argv, logger)


if __name__ == "__main__":
    sys.exit(main())
