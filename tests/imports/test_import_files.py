"""Files as they arrive: any encoding, quoted newlines, workbooks with formulas, and the
hostile ones (too big, zip bombs) refused before they are read into memory. No database."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from app.imports.profiles import SHIPPED_DIR, ProfileError, find_profile, load_profile
from app.imports.readers import ImportFileError, check_file, read_rows
from app.imports.rows import parse
from app.models.imports import ImportKind

HEADING = "Worker ID,Worker Name,Email,Job Title,Team,FTE,Contracted Hours,Start Date,End Date"


def _names(path: Path) -> list[str]:
    facts = check_file(path, 1024 * 1024)
    parsed = parse(ImportKind.staff, find_profile("lcs"), read_rows(path, facts))
    assert parsed.errors == []
    return [r.name for r in parsed.records]


def test_utf8_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(("\ufeff" + HEADING + "\nW1,Zoë Malik,z@example.org,Social Worker,,1,37,"
                      "01/09/2026,\n").encode("utf-8"))
    assert check_file(path, 10_000).encoding == "utf-8-sig"
    assert _names(path) == ["Zoë Malik"]


def test_windows_1252_is_recognised_when_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes((HEADING + "\nW1,Aoife O\u2019Brien,a@example.org,Social Worker,,1,37,"
                      "01/09/2026,\nW2,Zoë Malik,z@example.org,Social Worker,,1,37,01/09/2026,"
                      "\n").encode("cp1252"))
    assert check_file(path, 10_000).encoding == "cp1252"
    assert _names(path) == ["Aoife O\u2019Brien", "Zoë Malik"]


def test_quoted_newlines_and_quotes_stay_in_their_cell(tmp_path: Path) -> None:
    path = tmp_path / "quoted.csv"
    path.write_text(HEADING + '\nW1,"Aoife ""Effie""\nO\'Brien",a@example.org,Social Worker,,'
                    '1,37,01/09/2026,\nW2,"Malik, Zoe",z@example.org,Social Worker,,1,37,'
                    "01/09/2026 09:15,\n", encoding="utf-8")
    assert _names(path) == ['Aoife "Effie" O\'Brien', "Malik, Zoe"]


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text(HEADING + "\n" + "x" * 5000)
    with pytest.raises(ImportFileError, match="over the import limit of 0.0 MiB"):
        check_file(path, 2048)


def test_a_zip_bomb_dressed_as_a_workbook_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (64 * 1024 * 1024))
    assert path.stat().st_size < 200_000
    with pytest.raises(ImportFileError, match="refused as unsafe"):
        check_file(path, 20 * 1024 * 1024)


def test_a_formula_is_read_as_its_text_never_evaluated(tmp_path: Path) -> None:
    path = tmp_path / "staff.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(HEADING.split(","))
    sheet.append(["W1", '=HYPERLINK("http://evil.example","Zoe")', "z@example.org",
                  "Social Worker", None, 1, 37, "01/09/2026", None])
    workbook.save(path)
    assert check_file(path, 1024 * 1024).format == "xlsx"
    assert _names(path) == ['=HYPERLINK("http://evil.example","Zoe")']


def test_the_shipped_profiles_load() -> None:
    names = sorted(p.stem for p in SHIPPED_DIR.glob("*.toml"))
    assert names == ["eclipse", "lcs", "mosaic"]
    for name in names:
        assert set(find_profile(name).kinds) == set(ImportKind)


def test_a_bad_profile_is_refused_with_its_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "ours.toml"
    path.write_text('title = "Ours"\n'
                    "[cases.columns]\n"
                    'reference = "Case"\n'
                    'categroy = "Need"\n'
                    "[cases.codes.category]\n"
                    '"CIN" = "child_in_ned"\n')
    with pytest.raises(ProfileError) as refused:
        load_profile(path)
    text = str(refused.value)
    assert f"{path}:4: unknown field 'categroy'" in text
    assert f"{path}:6: 'CIN' maps to 'child_in_ned'" in text
    assert "required field 'opened_on' has no column" in text
