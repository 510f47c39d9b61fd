"""The breach dashboard page: its as-of date, the team x rule table's totals and sorting,
and severity and status tags that never share a colour."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from html.parser import HTMLParser

from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.scenarios import seed

START = date(2026, 9, 1)
ON = date(2026, 12, 1)


class Page(HTMLParser):
    """The parts of the dashboard a reader relies on: the table's cells by section, its
    column headers' sort links, and the classes of the breach list's tags."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.section = ""
        self.in_matrix = False
        self.rows: dict[str, list[list[str]]] = {"thead": [], "tbody": [], "tfoot": []}
        self.headers: list[dict[str, str | None]] = []
        self.tags: list[str] = []
        self.cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self.in_matrix = a.get("id") == "team-rule-counts"
        elif self.in_matrix and tag in self.rows:
            self.section = tag
        elif self.in_matrix and tag == "tr":
            self.rows[self.section].append([])
        elif self.in_matrix and tag in ("td", "th"):
            self.cell = []
            if self.section == "thead":
                self.headers.append({"key": a.get("data-sort-key"), "sort": a.get("aria-sort")})
        elif self.in_matrix and tag == "a" and self.section == "thead":
            self.headers[-1]["href"] = a.get("href")
        elif tag == "strong" and "govuk-tag" in (a.get("class") or ""):
            self.tags.append(a.get("class") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.in_matrix = False
        elif self.in_matrix and tag in ("td", "th") and self.cell is not None:
            self.rows[self.section][-1].append("".join(self.cell).strip())
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)

    def tag_classes(self, kind: str) -> list[set[str]]:
        return [set(c.split()) for c in self.tags if f"rf-tag--{kind}" in c]


def coordinator(client_as: Callable[..., TestClient], db_session: Session) -> TestClient:
    """An ASYE coordinator, who sees every team's breaches, after the history is made."""
    history(db_session)
    return client_as("asye_coordinator")


def history(db_session: Session) -> None:
    """Two teams; one breach opens after 2026-11-20, one is resolved long before."""
    for org in (seed.organisation(db_session), seed.organisation(db_session)):
        worker, enrolment = seed.nqsw(db_session, org, start=START)
        seed.breach(db_session, worker, enrolment, opened_on=date(2026, 11, 2))
        seed.breach(db_session, worker, enrolment, opened_on=date(2026, 11, 25),
                    rule_id="complexity-gate", policy_id="complexity-gates", severity="severe")
    seed.breach(db_session, worker, enrolment, opened_on=date(2026, 11, 10),
                rule_id="cp-coworking", policy_id="cp-coworking", severity="medium")
    db_session.commit()


def dashboard(client: TestClient, **params: str) -> tuple[str, Page]:
    response = client.get("/breaches", params={"on": ON.isoformat(), **params})
    assert response.status_code == 200, response.text[:500]
    return response.text, Page(response.text)


def test_as_of_date_shows_and_changes_what_is_counted(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    client = coordinator(client_as, db_session)
    html, page = dashboard(client)
    assert re.search(r'id="as-of-date">1 December 2026<', html)
    # The GOV.UK date input: three boxes, filled with the date shown.
    for part, value in (("day", "1"), ("month", "12"), ("year", "2026")):
        assert re.search(rf'<input[^>]*name="on-{part}"[^>]*value="{value}"', html), part
    assert ">Show</button>" in html and 'id="on-hint"' in html
    assert page.rows["tfoot"][0][-1] == "5"
    boxes = client.get("/breaches", params={"on-day": "20", "on-month": "11",
                                            "on-year": "2026"})
    assert 'id="as-of-date">20 November 2026<' in boxes.text
    no_year = client.get("/breaches", params={"on-day": "20", "on-month": "11"})
    assert no_year.status_code == 422 and "must include a year" in no_year.text
    earlier_html, earlier = dashboard(client, on="2026-11-20")
    assert 'id="as-of-date">20 November 2026<' in earlier_html
    assert earlier.rows["tfoot"][0][-1] == "3"  # the two opened on 25 November are not yet
    assert "(3 matching)" in earlier_html  # nor listed
    assert len(earlier.tag_classes("severity")) == 3
    assert "2026-11-20" in earlier.headers[0]["href"]  # sorting keeps the date


def test_totals_are_sums_of_the_cells(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    client = coordinator(client_as, db_session)
    _, page = dashboard(client)
    body = [[int(c) for c in row[1:]] for row in page.rows["tbody"]]
    foot = [int(c) for c in page.rows["tfoot"][0][1:]]
    assert len(body) == 2
    assert all(row[-1] == sum(row[:-1]) for row in body)
    assert foot == [sum(column) for column in zip(*body, strict=True)]
    assert page.rows["thead"][0][-1].startswith("Total")


def test_sorting_follows_the_link(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    client = coordinator(client_as, db_session)
    _, page = dashboard(client)
    assert page.headers[0]["sort"] == "ascending"
    total = next(h for h in page.headers if h["key"] == "total")
    assert total["sort"] is None and total["href"]
    _, by_total = dashboard(client, **dict(
        p.split("=") for p in str(total["href"]).split("?")[1].split("&")))
    totals = [int(row[-1]) for row in by_total.rows["tbody"]]
    assert totals == sorted(totals, reverse=True) and totals[0] > totals[-1]
    assert next(h for h in by_total.headers if h["key"] == "total")["sort"] == "descending"
    _, ascending = dashboard(client, sort="total", dir="asc")
    assert [int(row[-1]) for row in ascending.rows["tbody"]] == sorted(totals)


def test_severity_and_status_tags_differ(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    client = coordinator(client_as, db_session)
    _, page = dashboard(client)
    severity, status = page.tag_classes("severity"), page.tag_classes("status")
    assert len(severity) == len(status) == 5
    colours = {c for tag in severity for c in tag if c.startswith("govuk-tag--")}
    assert "govuk-tag--red" in colours
    assert not colours & {c for tag in status for c in tag if c.startswith("govuk-tag--")}


def listed(html: str) -> list[tuple[int, int]]:
    """The breach list's rows as (breach id, age in working days), in their order."""
    ids = [int(i) for i in re.findall(r'<tr class="govuk-table__row" data-breach-id="(\d+)"', html)]
    ages = [int(a) for a in re.findall(r'data-age="(\d+)"', html)]
    return list(zip(ids, ages, strict=True))


def test_breaches_are_aged_from_when_the_problem_began(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    org = seed.organisation(db_session)
    worker, enrolment = seed.nqsw(db_session, org, start=START)
    fresh = seed.breach(db_session, worker, enrolment, opened_on=date(2026, 11, 25))
    overdue = seed.breach(db_session, worker, enrolment, opened_on=date(2026, 11, 25),
                          rule_id="supervision-frequency", policy_id="supervision",
                          severity="medium")
    overdue.began_on = date(2026, 10, 13)  # supervision overdue long before it was noticed
    db_session.commit()
    client = client_as("asye_coordinator")
    html, _ = dashboard(client)
    # 14 October to 1 December: seven full weeks of five, three days and two days.
    assert listed(html) == [(overdue.id, 35), (fresh.id, 4)]  # longest running first
    assert 'data-began="2026-10-13"' in html
    assert '<option value="20" selected>' in dashboard(client, min_age="20")[0]
    assert listed(dashboard(client, min_age="20")[0]) == [(overdue.id, 35)]
    assert listed(dashboard(client, order="newest")[0]) == [(fresh.id, 4), (overdue.id, 35)]
    assert ">21+ days</span>" in html
    ageing = re.search(r"<span>21\+ days</span>.*?rf-bar__value\">(\d+)<", html, re.S)
    assert ageing and ageing.group(1) == "1"


def test_which_teams_got_worse_over_twelve_weeks(
    client_as: Callable[..., TestClient], db_session: Session
) -> None:
    steady, worse = seed.organisation(db_session), seed.organisation(db_session)
    for org, began in ((steady, date(2026, 9, 1)), (worse, date(2026, 11, 2))):
        worker, enrolment = seed.nqsw(db_session, org, start=START)
        for rule_id in ("caseload-cap", "complexity-gate"):
            row = seed.breach(db_session, worker, enrolment, opened_on=date(2026, 11, 20),
                              rule_id=rule_id)
            row.began_on = began
    worker, enrolment = seed.nqsw(db_session, steady, start=START)
    seed.breach(db_session, worker, enrolment, opened_on=date(2026, 9, 1),
                resolved_on=date(2026, 10, 1), rule_id="cp-coworking")
    db_session.commit()
    html, _ = dashboard(client_as("asye_coordinator"))
    table = html[html.index('id="team-change"'):]
    table = table[:table.index("</table>")]
    assert "8 September 2026" in html and 'id="team-change-heading"' in html
    rows = re.findall(r'data-change="(-?\d+)">\s*<th scope="row" class="govuk-table__header">'
                      r"([^<]+)</th>\s*<td[^>]*>(\d+)</td>\s*<td[^>]*>(\d+)</td>", table)
    # 12 weeks before 1 December is 8 September: the steady team had three unresolved
    # breaches then (two begun, one not yet resolved) and two now; the other none then.
    assert rows == [("2", worse.team.name, "0", "2"), ("-1", steady.team.name, "3", "2")]
    assert "<strong>2 more</strong>" in table and "1 fewer" in table
