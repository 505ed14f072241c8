"""Plain-text tables for the terminal: every `tfxp` command that prints rows aligns them here."""
from typing import Collection, List, Sequence


def align(rows: Sequence[Sequence[str]], right: Collection[int] = (),
          indent: str = "") -> List[str]:
    """The rows as lines, each column as wide as its widest cell (a header row included), so long
    names such as `sparse_categorical_crossentropy` never push a column out of line. Columns whose
    index is in `right` are right-aligned (numbers); trailing spaces are dropped."""
    if not rows:
        return []
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [indent + "  ".join(cell.rjust(width) if i in right else cell.ljust(width)
                               for i, (cell, width) in enumerate(zip(row, widths))).rstrip()
            for row in rows]
