"""Spreadsheet cells that cannot run: text that a spreadsheet would read as a formula.

A name, a note or a reason typed by someone ("=HYPERLINK(...)", "+44 ...", "@SUM(...)")
must open as the text it is, never as a formula (CSV or formula injection). Both formats
share the same test of what is formula-like; each neutralises it its own way:

- CSV has no cell types, so the text is prefixed with an apostrophe, which every
  spreadsheet reads as "this is text";
- XLSX cells are written as string cells (never formula cells), so the text is kept as
  typed, and characters XML cannot hold are dropped.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

# What a spreadsheet may take for the start of a formula (or a DDE command).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Control characters an XLSX file (XML 1.0) cannot hold; tab, newline and return it can.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def formula_like(value: Any) -> bool:
    """Whether a spreadsheet could take this value for a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def csv_safe(value: Any) -> Any:
    """The value, with formula-like text prefixed by an apostrophe (anything else as is)."""
    return "'" + value if formula_like(value) else value


def csv_cell(value: Any) -> Any:
    """A value as a CSV cell: empty for None, ISO dates, formula-like text prefixed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, date | datetime):
        return value.isoformat()
    return csv_safe(value)


def xlsx_value(value: Any) -> tuple[Any, bool]:
    """A value for an XLSX cell, and whether it must be written as a string cell.

    Text is always a string cell (openpyxl would otherwise write text starting with "="
    as a formula); numbers and dates keep their types so that the sheet can sum them.
    """
    if isinstance(value, bool):
        return ("Yes" if value else "No"), True
    if isinstance(value, str):
        return _XML_ILLEGAL.sub("", value), True
    return value, False
