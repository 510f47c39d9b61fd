"""An Excel workbook (XLSX) of one sheet, written row by row as plain XML.

openpyxl builds an object for every cell and serialises it in pure Python, which costs
about a tenth of a millisecond a cell: seconds for a register of a few thousand
breaches. A report's sheet needs very little of the format (text, numbers and dates, a
bold heading row, the heading frozen), so the sheet's XML is written here directly and
zipped as it is written, at the cost of string formatting.

Text is always an inline string cell (`t="inlineStr"`): the workbook holds no formula
at all, whatever the text starts with, so a typed "=HYPERLINK(...)" opens as text.
"""

from __future__ import annotations

import math
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

from app.exports.cells import xlsx_value

EXCEL_EPOCH = datetime(1899, 12, 30)
# Cell styles, by their index in STYLES below.
DATE_STYLE, DATETIME_STYLE, HEADING_STYLE = 1, 2, 3

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
TYPES = "application/vnd.openxmlformats-officedocument.spreadsheetml"
XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

CONTENT_TYPES = (
    f'{XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{TYPES}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{TYPES}.worksheet+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{TYPES}.styles+xml"/></Types>'
)
ROOT_RELS = (
    f'{XML_HEAD}<Relationships xmlns="{PACKAGE_RELS}"><Relationship Id="rId1" '
    f'Type="{RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
WORKBOOK_RELS = (
    f'{XML_HEAD}<Relationships xmlns="{PACKAGE_RELS}">'
    f'<Relationship Id="rId1" Type="{RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{RELS}/styles" Target="styles.xml"/></Relationships>'
)
STYLES = (
    f'{XML_HEAD}<styleSheet xmlns="{MAIN}">'
    '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/>'
    '<numFmt numFmtId="165" formatCode="yyyy-mm-dd hh:mm"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    '</cellStyleXfs><cellXfs count="4">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
    '</cellStyles></styleSheet>'
)
SHEET_HEAD = (
    f'{XML_HEAD}<worksheet xmlns="{MAIN}"><sheetViews><sheetView workbookViewId="0">'
    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    '</sheetView></sheetViews><sheetData>'
)
SHEET_TAIL = "</sheetData></worksheet>"
# A carriage return written as itself would be read back as a line feed (XML line ends).
KEEP = {"\r": "&#13;"}


def column_letters(count: int) -> list[str]:
    """"A", "B", ... "Z", "AA", ... for the first `count` columns."""
    letters = []
    for index in range(1, count + 1):
        name = ""
        while index:
            index, rest = divmod(index - 1, 26)
            name = chr(65 + rest) + name
        letters.append(name)
    return letters


def _cell(ref: str, value: Any, style: int = 0) -> str:
    shown, text = xlsx_value(value)
    styled = f' s="{style}"' if style else ""
    if shown is None:
        return ""
    if text or (isinstance(shown, float) and not math.isfinite(shown)):
        return (f'<c r="{ref}" t="inlineStr"{styled}><is><t xml:space="preserve">'
                f"{escape(str(shown), KEEP)}</t></is></c>")
    if isinstance(shown, datetime):
        serial = (shown.replace(tzinfo=None) - EXCEL_EPOCH).total_seconds() / 86400
        return f'<c r="{ref}" s="{DATETIME_STYLE}"><v>{serial!r}</v></c>'
    if isinstance(shown, date):
        return f'<c r="{ref}" s="{DATE_STYLE}"><v>{(shown - EXCEL_EPOCH.date()).days}</v></c>'
    return f'<c r="{ref}"{styled}><v>{shown!r}</v></c>'


def _row(number: int, letters: Sequence[str], values: Sequence[Any], style: int = 0) -> str:
    cells = "".join(_cell(f"{letter}{number}", value, style)
                    for letter, value in zip(letters, values, strict=False))
    return f'<row r="{number}">{cells}</row>'


def write_workbook(
    file: IO[bytes], title: str, headers: Sequence[str], chunks: Iterable[Sequence[Sequence[Any]]]
) -> None:
    """The workbook into `file`: one sheet called `title`, `headers` in bold and frozen,
    then the rows, a chunk at a time."""
    letters = column_letters(len(headers))
    sheet_name = quoteattr(title[:31])
    workbook = (f'{XML_HEAD}<workbook xmlns="{MAIN}" xmlns:r="{RELS}"><sheets>'
                f'<sheet name={sheet_name} sheetId="1" r:id="rId1"/></sheets></workbook>')
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", ROOT_RELS)
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/styles.xml", STYLES)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write((SHEET_HEAD + _row(1, letters, headers, HEADING_STYLE)).encode())
            number = 1
            for chunk in chunks:
                lines = []
                for values in chunk:
                    number += 1
                    lines.append(_row(number, letters, values))
                sheet.write("".join(lines).encode())
            sheet.write(SHEET_TAIL.encode())
