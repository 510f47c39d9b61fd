"""A report streamed as CSV or XLSX.

CSV goes out a chunk of rows at a time as the database hands them over. An XLSX file is
a zip archive that cannot be sent before it is finished, so its rows are written, a
chunk at a time, to a temporary file (app/exports/xlsx.py), which is then streamed.
Either way the rows are read on a session of the download's own, opened when the first
byte is asked for and closed after the last: the request's session is closed once the
handler returns.

Every cell passes through app.exports.cells, so formula-like text never runs.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterator
from typing import Literal

from fastapi import Request
from fastapi.responses import StreamingResponse

from app.db import open_request_session
from app.exports.cells import csv_cell
from app.exports.reports import Report
from app.exports.xlsx import write_workbook

Format = Literal["csv", "xlsx"]
FORMATS: tuple[Format, ...] = ("csv", "xlsx")
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA_TYPES: dict[str, str] = {"csv": CSV_MEDIA_TYPE, "xlsx": XLSX_MEDIA_TYPE}
# The byte-order mark lets Excel read the file as UTF-8 (names with accents intact).
UTF8_BOM = "\ufeff"
FILE_CHUNK = 64 * 1024
# A workbook up to this size is kept in memory; a larger one goes to a temporary file.
SPOOL_BYTES = 8 * 1024 * 1024
FORMAT_NAMES = {"csv": "CSV", "xlsx": "an Excel workbook (XLSX)"}


def download_responses(fmt: Format) -> dict[int | str, dict[str, object]]:
    """What the API documents for a download in this format."""
    return {200: {"description": f"The report as {FORMAT_NAMES[fmt]}, streamed as an "
                                 "attachment.",
                  "content": {MEDIA_TYPES[fmt]: {}}}}


def csv_lines(report: Report, request: Request) -> Iterator[str]:
    """The report as CSV text, the heading line first, then a chunk of rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_cell(h) for h in report.headers])
    yield UTF8_BOM + buffer.getvalue()
    with open_request_session(request) as session:
        for chunk in report.chunks(session):
            buffer.seek(0)
            buffer.truncate()
            writer.writerows([csv_cell(value) for value in row] for row in chunk)
            yield buffer.getvalue()


def xlsx_bytes(report: Report, request: Request) -> Iterator[bytes]:
    """The report as an XLSX workbook of one sheet, headings in bold and frozen: written
    to a temporary file (in memory while small), then sent a piece at a time."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as file:
        with open_request_session(request) as session:
            write_workbook(file, report.title, report.headers, report.chunks(session))
        file.seek(0)
        while data := file.read(FILE_CHUNK):
            yield data


def download(request: Request, report: Report, fmt: Format) -> StreamingResponse:
    """The report as a streamed attachment in the format asked for."""
    body = csv_lines(report, request) if fmt == "csv" else xlsx_bytes(report, request)
    return StreamingResponse(
        body, media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{report.name}.{fmt}"'},
    )


def fmt_of(request: Request) -> Format:
    """The format a download's path asks for: its suffix."""
    return "xlsx" if request.url.path.endswith(".xlsx") else "csv"
