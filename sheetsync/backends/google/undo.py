"""Undoing a write that landed on moved cells.

When the write's answer shows that rows or columns moved under it (a person inserted, deleted
or sorted between sheetsync's read and its write), every written cell may have replaced
something else than planned. What it replaced was read: the person's cells only moved. This
module works out where each read row and column is now, by content (rows by the values of
their unwritten cells, columns by an order-keeping alignment of their values), and builds the
writes that put back what each written cell held before.

A cell whose row or column did not exist at the read (inserted in the meantime) held nothing
sheetsync knows of; it is cleared.
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Mapping

from sheetsync.backends.base import CellValue
from sheetsync.backends.google.cells import entered_value, is_formula
from sheetsync.backends.google.diff import CellOp
from sheetsync.backends.google.guards import Values
from sheetsync.backends.google.tabs import EMPTY_CELL, TabState


def column_map(read: Values, after: Values, written: set[tuple[int, int]]) -> dict[int, int]:
    """Column now -> the column it was at the read, for the columns that can be told.

    Columns keep their order when one is inserted or deleted, so they are aligned in order,
    maximising the values each pair has in common (the written cells left out); a column
    dragged elsewhere is then matched by content alone. Unmatched columns between two matched
    ones are paired when both sides have as many; columns after the last matched one are
    paired in order.
    """
    read_cols: dict[int, Counter[CellValue]] = defaultdict(Counter)
    for (_, c), value in read.items():
        read_cols[c][value] += 1
    after_cols: dict[int, Counter[CellValue]] = defaultdict(Counter)
    for (r, c), value in after.items():
        if (r, c) not in written:
            after_cols[c][value] += 1
    n_after = max([c + 1 for _, c in after] + [c + 1 for _, c in written], default=0)
    n_read = max((c + 1 for _, c in read), default=0)
    holders: dict[CellValue, dict[int, int]] = defaultdict(dict)
    for c, counts in read_cols.items():
        for value, n in counts.items():
            holders[value][c] = n
    common = [[0] * n_read for _ in range(n_after)]
    for i, counts in after_cols.items():
        line = common[i]
        for value, n in counts.items():
            for j, m in holders.get(value, {}).items():
                line[j] += min(n, m)
    best = [[0] * (n_read + 1) for _ in range(n_after + 1)]
    for i in range(n_after):
        for j in range(n_read):
            pair = best[i][j] + common[i][j] if common[i][j] else 0
            best[i + 1][j + 1] = max(best[i][j + 1], best[i + 1][j], pair)
    pairs: list[tuple[int, int]] = []
    i, j = n_after, n_read
    while i and j:
        if common[i - 1][j - 1] and best[i][j] == best[i - 1][j - 1] + common[i - 1][j - 1]:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif best[i][j] == best[i - 1][j]:
            i -= 1
        else:
            j -= 1
    pairs.reverse()
    mapping = dict(pairs)
    free_read = set(range(n_read)) - set(mapping.values())
    moved = sorted(
        ((common[i][j], i, j) for i in range(n_after) if i not in mapping for j in free_read),
        reverse=True,
    )
    for weight, i, j in moved:  # a column dragged elsewhere: matched by content, out of order
        if weight and i not in mapping and j in free_read:
            mapping[i] = j
            free_read.discard(j)
    edges = [(-1, -1), *pairs]
    for (a0, b0), (a1, b1) in zip(edges, [*pairs, (n_after, n_read)], strict=True):
        if a1 - a0 == b1 - b0:
            gap = {a0 + k: b0 + k for k in range(1, a1 - a0)}
            mapping.update({a: b for a, b in gap.items() if a not in mapping and b in free_read})
    a_last, b_last = edges[-1]
    trailing = {a_last + k: b_last + k for k in range(1, n_after - a_last)}
    mapping.update({a: b for a, b in trailing.items() if a not in mapping})
    return mapping


def row_map(
    read: Values, after: Values, rows: int, columns: Mapping[int, int], skip: Iterable[int]
) -> dict[int, int]:
    """Row now (below `rows`) -> the row it was at the read, matched on the values of the mapped
    columns that were not written; identical rows are matched in order."""
    skipped = set(skip)
    keys = sorted((now, then) for now, then in columns.items() if now not in skipped)
    read_rows = max((r + 1 for r, _ in read), default=0)
    waiting: dict[tuple[object, ...], deque[int]] = defaultdict(deque)
    for r in range(read_rows):
        waiting[tuple(read.get((r, then)) for _, then in keys)].append(r)
    mapping: dict[int, int] = {}
    for r in range(rows):
        queue = waiting.get(tuple(after.get((r, now)) for now, _ in keys))
        if queue:
            mapping[r] = queue.popleft()
    return mapping


def undo_ops(
    tab: TabState, read: Values, after: Values, rows: int, ops: list[CellOp]
) -> tuple[list[CellOp], Values]:
    """The writes that put back what `ops` replaced on `tab`, and the values the answered rows
    then hold (formulas left out: their results cannot be told in advance). `read` is the
    tab's values at the read, `after` the first `rows` rows as the write's answer showed them.

    A formula is put back with the text it had at the read: if it referred to cells beyond an
    inserted or deleted column, Google had shifted that reference and the text put back has not.
    """
    written = {(op.row, op.col) for op in ops}
    columns = column_map(read, after, written)
    rows_now = row_map(read, after, rows, columns, {c for _, c in written})
    undo: list[CellOp] = []
    expected = {
        (r, c): value
        for (r, c), value in after.items()
        if (r, c) not in written
        and not is_formula(tab.cell(rows_now.get(r, -1), columns.get(c, -1)).value)
    }
    for op in ops:
        origin_row, origin_col = rows_now.get(op.row), columns.get(op.col)
        if origin_row is None or origin_col is None:
            state, value = EMPTY_CELL, None
        else:
            state = tab.cell(origin_row, origin_col)
            value = read.get((origin_row, origin_col))
        undo.append(
            CellOp(
                op.tab,
                op.row,
                op.col,
                entered_value(state.value),
                state.fill,
                state.number_format,
                state.value,
            )
        )
        if value is not None and not is_formula(state.value):
            expected[(op.row, op.col)] = value
    return undo, expected
