"""Fixtures for the data-prep scripts: import them by path, write tiny .mo files.

``data-prep/`` is a folder of scripts, not a package (its name has a dash), so
each script is loaded as a module from its file.
"""

from __future__ import annotations

import importlib.util
import struct
import sys
from pathlib import Path
from types import ModuleType

import pytest

DATA_PREP = Path(__file__).resolve().parents[2] / "data-prep"


def load_script(name: str) -> ModuleType:
    """Imports ``data-prep/<name>.py`` as module ``data_prep_<name>`` (once).

    ``data-prep/`` goes on ``sys.path`` first, so that a script can import its
    siblings (``prep_io``, ``fetch``) by name, as it does when run from there.
    """
    if str(DATA_PREP) not in sys.path:
        sys.path.insert(0, str(DATA_PREP))
    module_name = f"data_prep_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, DATA_PREP / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


def write_mo(
    path: Path,
    entries: list[tuple[str, str]],
    charset: str = "UTF-8",
    byteorder: str = "<",
) -> None:
    """Writes a GNU .mo catalog: the header entry plus ``entries``.

    The layout is the documented one: magic, revision 0, count, offsets of the
    original and translation tables, an empty hash table, then the strings,
    each NUL-terminated. Plural entries are written as ``"one\\0many"``.
    """
    header = f"Content-Type: text/plain; charset={charset}\n"
    items = sorted([("", header)] + entries, key=lambda e: e[0].encode(charset))
    originals = [k.encode(charset) for k, _ in items]
    translations = [v.encode(charset) for _, v in items]
    count = len(items)
    tables_end = 28 + 16 * count
    blob, offsets = b"", []
    for string in originals + translations:
        offsets.append((len(string), tables_end + len(blob)))
        blob += string + b"\0"
    head = struct.pack(
        byteorder + "7I", 0x950412DE, 0, count, 28, 28 + 8 * count, 0, tables_end
    )
    tables = b"".join(struct.pack(byteorder + "2I", *o) for o in offsets)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(head + tables + blob)


@pytest.fixture(scope="session")
def gettext_corpus() -> ModuleType:
    return load_script("gettext_corpus")


@pytest.fixture(scope="session")
def brown_pos() -> ModuleType:
    return load_script("brown_pos")


@pytest.fixture(scope="session")
def binarize() -> ModuleType:
    return load_script("binarize")
