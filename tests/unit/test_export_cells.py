"""Spreadsheet cells that cannot run: every formula-like start, in CSV and in XLSX."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from app.exports.cells import FORMULA_STARTS, csv_cell
from app.exports.xlsx import write_workbook

TEXTS = [f"{start}SUM(A1:A9)" for start in FORMULA_STARTS]


@pytest.mark.parametrize("text", TEXTS)
def test_csv_prefixes_formula_like_text(text: str) -> None:
    assert csv_cell(text) == "'" + text


def test_csv_leaves_other_values_as_they_are() -> None:
    assert [csv_cell(v) for v in ("Ana", -3, 2.5, None, True, date(2026, 12, 1))] == [
        "Ana", -3, 2.5, "", "Yes", "2026-12-01"]


def test_xlsx_holds_no_formula_and_keeps_the_text() -> None:
    buffer = io.BytesIO()
    rows = [[text, -3, date(2026, 12, 1), None] for text in TEXTS]
    write_workbook(buffer, "Register", ["Text", "Number", "Date", "Empty"], [rows])
    sheet = load_workbook(io.BytesIO(buffer.getvalue())).worksheets[0]
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    read = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert [r[0] for r in read] == TEXTS
    assert {r[1] for r in read} == {-3} and {r[2].date() for r in read} == {date(2026, 12, 1)}
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.b
