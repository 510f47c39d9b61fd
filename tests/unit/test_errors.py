"""The error handlers' helpers: a 409 that names the value, JSON-safe echoes, and finding
the date that took date arithmetic past the calendar."""

from __future__ import annotations

import json
import math

import pytest
from sqlalchemy.exc import IntegrityError
from starlette.requests import Request

from app.errors import _integrity_detail, is_date_overflow, json_safe, out_of_range_date_loc


def request(query: str = "", body: object = None) -> Request:
    scope = {"type": "http", "method": "POST", "path": "/api/v1/x", "headers": [],
             "query_string": query.encode()}
    made = Request(scope)
    if body is not None:
        made._body = json.dumps(body).encode()
    return made


class PostgresUnique(Exception):
    """What psycopg raises for a duplicate key: a message and the table it is about."""

    class diag:  # noqa: N801 - psycopg's attribute name
        table_name = "case"

    def __str__(self) -> str:
        return ('duplicate key value violates unique constraint "ix_case_reference"\n'
                "DETAIL:  Key (reference)=(AUD-1) already exists.")


def test_a_sqlite_duplicate_takes_the_value_from_the_request() -> None:
    error = IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed: case.reference"))
    loc, message = _integrity_detail(error, request(body={"reference": "AUD-1"}))
    assert loc == ["body", "reference"]
    assert message == "a case with reference 'AUD-1' already exists"
    loc, message = _integrity_detail(error, request())
    assert message == "a case with reference already exists"


def test_a_postgres_duplicate_names_the_value_it_reports() -> None:
    loc, message = _integrity_detail(IntegrityError("INSERT", {}, PostgresUnique()), request())
    assert loc == ["body", "reference"]
    assert message == "a case with reference 'AUD-1' already exists"


def test_json_safe_names_the_floats_json_cannot_carry() -> None:
    echoed = json_safe([{"input": math.nan}, {"input": [math.inf, -math.inf, 1.5]}])
    assert echoed == [{"input": "NaN"}, {"input": ["Infinity", "-Infinity", 1.5]}]
    json.dumps(echoed, allow_nan=False)


@pytest.mark.parametrize(("query", "body", "loc"), [
    ("on=9999-12-31", None, ["query", "on"]),
    ("on=2026-01-01&from=10000-01-01", None, ["query", "from"]),
    ("", {"start_date": "2026-01-01", "end": {"on": "9999-06-01"}}, ["body", "end", "on"]),
    ("on=2026-01-01", {"day": "2026-02-01"}, None),
])
def test_the_out_of_range_date_is_found(query: str, body: object, loc: list[str] | None) -> None:
    assert out_of_range_date_loc(request(query, body)) == loc


def test_only_date_arithmetic_counts_as_a_date_overflow() -> None:
    assert is_date_overflow(ValueError("cannot add 24 months to 9999-06-01"))
    assert is_date_overflow(ValueError("year 10000 is out of range"))
    assert is_date_overflow(OverflowError("date value out of range"))
    assert not is_date_overflow(ValueError("invalid literal for int() with base 10: 'x'"))
