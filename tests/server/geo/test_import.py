"""flask import-booths: a real booth list, all or nothing, safe to import again."""

import pytest

from server.audit.models import AuditEntry
from server.extensions import db
from server.geo.booth_lists import BOOTH_COLUMNS
from server.geo.models import BLOCK, BOOTH, DISTRICT, PANCHAYAT
from tests.server.geo.helpers import (
    add_grievance,
    add_member,
    audit_count,
    booth_line,
    count_units,
    fresh,
    unit,
    unit_rows,
    write_booth_file,
)

KANKE = ("Kanke", "काँके")
RATU = ("Ratu", "रातू")
GOOD_LINES = [
    booth_line(booth=1),
    booth_line(booth=2),
    booth_line(panchayat=("Sukurhuttu", "सुकुरहुटू"), booth=3),
    booth_line(block=RATU, panchayat=("Ratu", "रातू"), booth=4),
    booth_line(
        district="DHN", block=("Baghmara", "बाघमारा"), panchayat=("Katras", "कतरास"), ac=43, booth=1
    ),
]


def run_import(runner, path):
    return runner.invoke(args=["import-booths", str(path)])


@pytest.fixture
def good_file(tmp_path):
    return write_booth_file(tmp_path / "booths.csv", GOOD_LINES)


def test_import_builds_blocks_panchayats_and_booths(make, runner, good_file):
    result = run_import(runner, good_file)
    assert result.exit_code == 0, result.output
    assert "Importing booths" in result.output
    assert "booths: 5 created" in result.output
    assert count_units(BLOCK) == 3
    assert count_units(PANCHAYAT) == 4
    assert count_units(BOOTH) == 5
    ranchi, kanke = unit(DISTRICT, "RAN"), unit(BLOCK, "RAN-KANKE")
    pithoria = unit(PANCHAYAT, "RAN-KANKE-PITHORIA")
    booth = unit(BOOTH, "AC-65-2")
    assert (kanke.name_hi, kanke.parent_id, kanke.district_id) == ("काँके", ranchi.id, ranchi.id)
    assert (pithoria.parent_id, pithoria.block_id, pithoria.district_id) == (
        kanke.id,
        kanke.id,
        ranchi.id,
    )
    assert booth.number == 2
    assert booth.name_hi == "मध्य विद्यालय पिठोरिया 2"
    assert (booth.parent_id, booth.block_id, booth.district_id) == (
        pithoria.id,
        kanke.id,
        ranchi.id,
    )
    assert booth.assembly_id == unit("assembly", "AC-65").id
    katras_booth = unit(BOOTH, "AC-43-1")
    assert katras_booth.district_id == unit(DISTRICT, "DHN").id


def test_the_same_file_twice_changes_nothing(make, runner, good_file):
    assert run_import(runner, good_file).exit_code == 0
    before, audits = unit_rows(), audit_count()
    again = run_import(runner, good_file)
    assert again.exit_code == 0, again.output
    assert "nothing changed" in again.output
    assert unit_rows() == before
    assert audit_count() == audits


def test_an_updated_name_updates_that_booth_only(make, runner, tmp_path, good_file):
    assert run_import(runner, good_file).exit_code == 0
    before = {row.code: row for row in unit_rows()}
    lines = [list(line) for line in GOOD_LINES]
    lines[1][8] = "मध्य विद्यालय पिठोरिया (नया भवन)"
    result = run_import(runner, write_booth_file(tmp_path / "renamed.csv", lines))
    assert result.exit_code == 0, result.output
    assert "booths: 1 updated" in result.output
    after = {row.code: row for row in unit_rows()}
    assert after["AC-65-2"].name_hi == "मध्य विद्यालय पिठोरिया (नया भवन)"
    assert {c for c in after if after[c] != before[c]} == {"AC-65-2"}
    fresh()
    entry = db.session.query(AuditEntry).filter_by(action="update").one()
    assert (entry.entity, entry.record_id, entry.fields) == (
        "unit",
        str(after["AC-65-2"].id),
        ["name_hi"],
    )


def test_hindi_names_are_stored_nfc(make, runner, tmp_path):
    # न + nukta composes to the single code point ऩ under NFC (क़ does not: it is excluded).
    decomposed = "\u0928\u093c\u0917\u0930"
    line = booth_line(name=("Qasba School", decomposed))
    assert run_import(runner, write_booth_file(tmp_path / "nfc.csv", [line])).exit_code == 0
    assert unit(BOOTH, "AC-65-1").name_hi == "\u0929\u0917\u0930"


BAD_LINES = {
    # line number in the file (the header is line 1) -> the line, and what must be said
    3: (booth_line(district="XYZ", booth=10), "unknown district 'XYZ'"),
    4: (booth_line(ac=43, booth=11), "assembly seat 43 (Baghmara) is not in district RAN"),
    5: (booth_line(booth="12a"), "booth_number '12a' is not a whole number"),
    6: (booth_line(booth=13, name=("School", "")), "missing booth_name_hi"),
    7: (booth_line(booth=1), "booth 1 of seat 65 is also on line 2"),
    8: (booth_line(ac="", booth=14), "ac_number '' is not a whole number"),
    9: (booth_line(ac=99, booth=15), "no assembly seat number 99"),
    10: (
        booth_line(block=("Kanke", "कांके"), booth=16),
        "block 'Kanke' is named otherwise on line 2",
    ),
    11: (booth_line(booth=0), "booth_number '0' is not a whole number"),
    12: (booth_line(block=("", "काँके"), booth=17), "missing block_name_en"),
}


def test_a_file_with_bad_lines_is_refused_whole(make, runner, tmp_path):
    lines = [booth_line(booth=1)] + [line for line, _ in BAD_LINES.values()]
    lines.append(booth_line(booth=30))
    result = run_import(runner, write_booth_file(tmp_path / "bad.csv", lines))
    assert result.exit_code == 1
    for number, (_, reason) in BAD_LINES.items():
        assert f"line {number}: {reason}" in result.output
    assert "line 2:" not in result.output
    assert "line 13:" not in result.output
    assert "nothing was imported" in result.output
    # Not even the reference geography was written.
    assert unit_rows() == []
    assert audit_count() == 0


def test_a_refused_file_leaves_an_imported_list_as_it_was(make, runner, tmp_path, good_file):
    assert run_import(runner, good_file).exit_code == 0
    before, audits = unit_rows(), audit_count()
    lines = [list(line) for line in GOOD_LINES]
    lines[0][8] = "नया नाम"
    lines.append(booth_line(district="XYZ", booth=50))
    result = run_import(runner, write_booth_file(tmp_path / "bad.csv", lines))
    assert result.exit_code == 1
    assert "line 7: unknown district 'XYZ'" in result.output
    assert unit_rows() == before
    assert audit_count() == audits


def test_a_file_without_a_column_is_refused(make, runner, tmp_path):
    header = [c for c in BOOTH_COLUMNS if c != "ac_number"]
    path = write_booth_file(tmp_path / "short.csv", [["RAN"] * len(header)], header=header)
    result = run_import(runner, path)
    assert result.exit_code == 1
    assert "line 1: missing column(s): ac_number" in result.output
    assert unit_rows() == []


def test_header_case_spaces_and_no_bom_are_accepted(make, runner, tmp_path):
    header = [f" {c.upper()} " for c in BOOTH_COLUMNS]
    path = write_booth_file(tmp_path / "plain.csv", [booth_line()], header=header, bom=False)
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    assert unit(BOOTH, "AC-65-1") is not None


def test_a_file_not_in_utf8_is_refused(make, runner, tmp_path):
    path = tmp_path / "legacy.csv"
    path.write_bytes(",".join(BOOTH_COLUMNS).encode() + b"\r\nRAN,Kanke,\xe0\xa4,x,y,65,1,a,b\r\n")
    result = run_import(runner, path)
    assert result.exit_code == 1
    assert "not UTF-8" in result.output
    assert unit_rows() == []


def test_a_line_with_extra_fields_is_refused(make, runner, tmp_path):
    path = write_booth_file(tmp_path / "wide.csv", [booth_line() + ["extra"]])
    result = run_import(runner, path)
    assert result.exit_code == 1
    assert "line 2: has 10 fields; the header has 9" in result.output


def test_an_empty_booth_list_is_refused(make, runner, tmp_path):
    result = run_import(runner, write_booth_file(tmp_path / "empty.csv", []))
    assert result.exit_code == 1
    assert "line 1: the file has no booths" in result.output


def test_a_booth_moves_between_blocks_only_when_it_holds_no_records(
    make, runner, tmp_path, good_file
):
    assert run_import(runner, good_file).exit_code == 0
    author = make.user("admin", unit("state", "JH"))
    add_member(unit(BOOTH, "AC-65-1"), author)
    add_grievance(unit(BOOTH, "AC-65-2"), author)
    lines = [list(line) for line in GOOD_LINES]
    for line in lines[:3]:
        line[1:3] = RATU
    result = run_import(runner, write_booth_file(tmp_path / "moved.csv", lines))
    assert result.exit_code == 1
    assert (
        "line 2: booth 1 of assembly seat 65 has 1 roster member(s) or grievance(s) in block RAN-KANKE"
        in result.output
    )
    assert "line 3: booth 2 of assembly seat 65 has 1" in result.output
    assert "line 4:" not in result.output
    # Booth 3 holds nothing: alone, it moves, with its block and district ids.
    lines = [list(line) for line in GOOD_LINES]
    lines[2][1:3] = RATU
    result = run_import(runner, write_booth_file(tmp_path / "moved3.csv", lines))
    assert result.exit_code == 0, result.output
    moved, ratu = unit(BOOTH, "AC-65-3"), unit(BLOCK, "RAN-RATU")
    assert moved.block_id == ratu.id
    assert unit(PANCHAYAT, "RAN-RATU-SUKURHUTTU").id == moved.parent_id
