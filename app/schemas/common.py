"""Shapes shared by every API area: pages of results and pagination parameters."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

T = TypeVar("T")

# The ids the database can hold (a 32-bit integer on PostgreSQL): a larger number names no
# record and is refused as bad input, not passed to the database.
MAX_ID = 2_147_483_647
RecordId = Annotated[int, Field(ge=1, le=MAX_ID)]
PathId = Annotated[int, Path(le=MAX_ID)]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class Page(BaseModel, Generic[T]):
    """A page of results and the total that matched the filters."""

    data: list[T]
    count: int


class Pagination(BaseModel):
    model_config = ConfigDict(frozen=True)

    limit: int = Field(50, ge=1, le=500)
    offset: int = Field(0, ge=0)


def pagination(
    limit: Annotated[int, Query(ge=1, le=500, description="Page size.")] = 50,
    offset: Annotated[int, Query(ge=0, description="Rows to skip.")] = 0,
) -> Pagination:
    return Pagination(limit=limit, offset=offset)
