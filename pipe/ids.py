"""Entity id lists for ``pipe init --ids FILE``: one integer id a line."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from pipe.errors import SpecError


def read_ids(path: Path) -> list[int]:
    """Read one integer id a line; blank lines are skipped, repeats kept once.

    Raises
    ------
    SpecError
        When the file is missing, has a line that is not an integer (the
        message gives its line number) or has no id at all.
    """
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise SpecError(f"cannot read --ids file {path}: {error}") from error
    ids: dict[int, None] = {}
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text:
            continue
        try:
            ids[int(text)] = None
        except ValueError:
            raise SpecError(f"--ids file {path}, line {number}: {text[:40]!r} is not an integer id; expected one integer a line") from None
    if not ids:
        raise SpecError(f"--ids file {path} has no ids; expected one integer a line")
    return sorted(ids)


def ids_table(ids: list[int]) -> pa.Table:
    return pa.table({"entity_id": pa.array(ids, type=pa.int64())})
