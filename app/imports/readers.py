"""Reading an export safely: CSV in whatever encoding it came in, XLSX without trusting it.

Exports arrive from other systems and from people's desktops, so a file is checked
before it is parsed: over the size limit it is refused before a byte of it is read
into memory; an XLSX (a zip of XML) is refused when its members would unpack to far
more than the file, the shape of a zip bomb; formulas are read as the text typed, never
evaluated. Rows are streamed one at a time, so a 50,000-row export is read in little
memory. Row numbers are a spreadsheet's: the heading is row 1, the first record row 2.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

CHUNK = 1024 * 1024
# An XLSX's XML compresses well, but not without limit: a real export unpacks to
# perhaps 10-20 times its size. Beyond these the file is refused as a likely zip bomb.
MAX_XLSX_RATIO = 200
MAX_XLSX_UNPACKED = 400 * 1024 * 1024
XLSX_MAGIC = b"PK\x03\x04"

Cell = str | int | float | date | datetime | None


class ImportFileError(Exception):
    """The file cannot be imported at all (as opposed to a bad row): one clear reason."""


@dataclass(frozen=True)
class FileFacts:
    size: int
    sha256: str
    format: str  # "csv" or "xlsx"
    encoding: str | None = None  # for a CSV: "utf-8", "utf-8-sig" or "cp1252"


def check_file(path: Path, max_bytes: int) -> FileFacts:
    """Size, hash and format of `path`, refusing one over `max_bytes` or an unsafe XLSX.

    The size is taken from the file system before anything is read; the hash and the
    encoding are worked out in one streamed pass."""
    size = path.stat().st_size
    if size > max_bytes:
        raise ImportFileError(
            f"the file is {_mib(size)}, over the import limit of {_mib(max_bytes)} "
            "(RINGFENCE_MAX_UPLOAD_BYTES); split the export or ask for the limit to be raised"
        )
    if size == 0:
        raise ImportFileError("the file is empty")
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    with path.open("rb") as handle:
        head = handle.read(4)
        handle.seek(0)
        is_xlsx = head == XLSX_MAGIC
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            if utf8 and not is_xlsx:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
    if is_xlsx:
        _check_zip(path, size)
        return FileFacts(size, digest.hexdigest(), "xlsx")
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    encoding = "cp1252"
    if utf8:
        encoding = "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"
    return FileFacts(size, digest.hexdigest(), "csv", encoding)


def _mib(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB"


def _check_zip(path: Path, size: int) -> None:
    """Refuse an XLSX whose members would unpack to far more than the file itself."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise ImportFileError("the file looks like an XLSX workbook but is damaged") from exc
    unpacked = sum(m.file_size for m in members)
    if unpacked > MAX_XLSX_UNPACKED or unpacked > max(size, 1) * MAX_XLSX_RATIO:
        raise ImportFileError(
            f"the workbook would unpack to {_mib(unpacked)} from {_mib(size)}, far more than "
            "a real export: it is refused as unsafe. Save it again from the spreadsheet, "
            "or export CSV"
        )
    for member in members:
        if member.compress_size and member.file_size / member.compress_size > MAX_XLSX_RATIO \
                and member.file_size > CHUNK:
            raise ImportFileError(
                f"the workbook's part {member.filename} is compressed more than "
                f"{MAX_XLSX_RATIO} to 1: it is refused as unsafe. Export CSV instead"
            )


def read_rows(path: Path, facts: FileFacts) -> Iterator[list[Cell]]:
    """Every row of the file, heading first, as a list of cells."""
    if facts.format == "xlsx":
        yield from _xlsx_rows(path)
    else:
        yield from _csv_rows(path, facts.encoding or "utf-8")


def _csv_rows(path: Path, encoding: str) -> Iterator[list[Cell]]:
    with path.open("r", encoding=encoding, newline="") as handle:
        # The heading row names the delimiter: most exports use commas, some semicolons
        # (a European locale's Excel) or tabs.
        heading = handle.readline()
        handle.seek(0)
        delimiter = max(",;\t", key=heading.count)
        for row in csv.reader(handle, delimiter=delimiter):
            yield list(row)


def _xlsx_rows(path: Path) -> Iterator[list[Cell]]:
    # openpyxl parses with defusedxml when it is installed (it is a dependency), so an
    # entity-expansion attack in the XML is refused by the parser itself.
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged workbook
        raise ImportFileError(f"the workbook cannot be read: {exc}") from exc
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_xlsx_cell(v) for v in values]
    finally:
        workbook.close()


def _xlsx_cell(value: Any) -> Cell:
    """A cell as a plain value: a formula stays the text typed (never evaluated)."""
    if value is None or isinstance(value, str | int | float | date | datetime):
        return value
    return str(value)
