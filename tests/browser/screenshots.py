"""Screenshots of every page at desktop and phone widths, for docs/screenshots/.

    .venv/bin/python -m tests.browser.screenshots [--out docs/screenshots]

Seeds a fresh SQLite database exactly as the accessibility sweep does
(tests/browser/test_accessibility.py: the browser seed, one person per role, and the
diary entries, sessions, sign-off and breach the pages show), starts a live server on it,
and saves each page, as the role that uses it most, full page at 1280 and 390 px wide.
It then writes the folder's README.md: a table of page, role and the two images.

Not a test module (its name does not start with `test_`), so pytest never collects it.
It fails if a page does not answer 200, or if the page access table gains a GET page that
is neither shot here nor left out with a reason.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.migrate import upgrade
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.test_accessibility import (
    NOT_HTML,
    ROLE_PEOPLE,
    Records,
    _paths,
    _sign_in,
    seed_records,
)
from tests.support.live_server import live_server

WIDTHS = (1280, 390)
OUT = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# A full-page PNG larger than this is cut to MAX_HEIGHT px, to keep the repository small.
MAX_BYTES = 400_000
MAX_HEIGHT = 3000
SIGNED_OUT = "signed out"
ROLE_NAMES = {
    "nqsw": "NQSW", "advanced_practitioner": "advanced practitioner",
    "social_worker": "social worker", "team_manager": "team manager",
    "senior_manager": "senior manager", "asye_coordinator": "ASYE coordinator",
    "admin": "admin", SIGNED_OUT: SIGNED_OUT,
}


@dataclass(frozen=True)
class Shot:
    name: str  # file stem in docs/screenshots/
    key: str  # the page access table's key ("GET /path"), or a signed-out page's
    role: str  # a key of ROLE_PEOPLE, or SIGNED_OUT
    title: str  # what the README calls it


# Each page once, as the role that uses it most ("GET /" is a different page per role).
SHOTS = (
    Shot("login", "GET /login", SIGNED_OUT, "Sign in"),
    Shot("set-password", "GET /set-password/{token}", SIGNED_OUT,
         "Set a password (from the emailed link)"),
    Shot("home-team-manager", "GET /", "team_manager", "Start page: the manager's team"),
    Shot("home-admin", "GET /", "admin", "Start page: administration"),
    Shot("dashboard", "GET /breaches", "asye_coordinator", "Breach dashboard"),
    Shot("breach", "GET /breaches/{breach_id}", "team_manager", "One breach"),
    Shot("nqsws", "GET /nqsws", "asye_coordinator", "NQSW list"),
    Shot("enrol", "GET /enrolments/new", "asye_coordinator", "Enrol an NQSW"),
    Shot("nqsw", "GET /nqsws/{staff_id}", "nqsw", "An NQSW's page"),
    Shot("nqsw-breaches", "GET /nqsws/{staff_id}/breaches", "nqsw", "An NQSW's own breaches"),
    Shot("allocate", "GET /allocate", "team_manager", "Allocate a case (with the policy check)"),
    Shot("diary", "GET /nqsws/{staff_id}/diary", "nqsw", "Protected-time diary"),
    Shot("diary-move", "GET /nqsws/{staff_id}/diary/{entry_id}/move", "nqsw",
         "Move a diary booking"),
    Shot("diary-rebook", "GET /nqsws/{staff_id}/diary/{entry_id}/rebook", "nqsw",
         "Rebook lost time"),
    Shot("diary-cancel", "GET /nqsws/{staff_id}/diary/{entry_id}/cancel", "team_manager",
         "Cancel a diary booking"),
    Shot("diary-calendar", "GET /nqsws/{staff_id}/diary/calendar", "nqsw", "Calendar link"),
    Shot("supervision", "GET /nqsws/{staff_id}/supervision", "team_manager", "Supervision record"),
    Shot("supervision-cancel", "GET /nqsws/{staff_id}/supervision/{session_id}/cancel",
         "team_manager", "Cancel a supervision session"),
    Shot("programme", "GET /nqsws/{staff_id}/programme", "team_manager",
         "Programme: reviews and sign-offs"),
    Shot("promise", "GET /promise", "nqsw", "The promises to every NQSW"),
    Shot("notifications", "GET /notifications", "team_manager", "Notifications"),
    Shot("cases", "GET /cases", "team_manager", "The team's cases"),
    Shot("case-new", "GET /cases/new", "team_manager", "Create a case"),
    Shot("case", "GET /cases/{case_id}", "team_manager", "One case: who holds it and since when"),
    Shot("case-close", "GET /cases/{case_id}/close", "team_manager", "Close a case"),
    Shot("case-change", "GET /cases/{case_id}/change", "team_manager",
         "Change a case's category or complexity"),
    Shot("allocation-end", "GET /cases/{case_id}/allocations/{allocation_id}/end",
         "team_manager", "End an allocation"),
    Shot("allocation-reassign", "GET /cases/{case_id}/allocations/{allocation_id}/reassign",
         "team_manager", "Reassign a case"),
    Shot("candidates", "GET /cases/{case_id}/candidates", "team_manager",
         "Who could take this case?"),
    Shot("override-request-new", "GET /override-requests/new", "team_manager",
         "Ask for an override"),
    Shot("override-requests", "GET /override-requests", "senior_manager", "Override requests"),
    Shot("override-request", "GET /override-requests/{request_id}", "senior_manager",
         "One override request: approve or refuse"),
    Shot("adjustments", "GET /nqsws/{staff_id}/adjustments", "asye_coordinator",
         "An NQSW's individual adjustments"),
    Shot("adjustment-propose", "GET /nqsws/{staff_id}/adjustments/propose", "team_manager",
         "Propose an adjustment"),
    Shot("adjustment-new", "GET /nqsws/{staff_id}/adjustments/new", "asye_coordinator",
         "Record an adjustment"),
    Shot("adjustment", "GET /nqsws/{staff_id}/adjustments/{adjustment_id}", "asye_coordinator",
         "One adjustment: approve, refuse or end"),
    Shot("imports", "GET /imports", "asye_coordinator", "Import a case-management export"),
    Shot("import-run", "GET /imports/{run_id}", "asye_coordinator", "An import's preview"),
    Shot("exports", "GET /exports", "asye_coordinator", "Exports as CSV and XLSX"),
)


def _allocate_checked(page: Any, records: Records) -> None:
    """The allocate form with Sam and a case chosen, and the policy check's verdict shown."""
    page.goto(f"/allocate?worker_id={records.seeded.ids['sam']}")
    page.get_by_label("Case reference").fill(records.seeded.spare_cases[0])
    page.locator("#whatif-result[data-outcome]").wait_for()


# Pages shown in a state worth seeing, after the plain load.
PREPARE: dict[str, Callable[[Any, Records], None]] = {"allocate": _allocate_checked}


def _check_coverage(records: Records) -> None:
    """Every GET page of the access table is shot here or left out with a reason."""
    shot_keys = {shot.key for shot in SHOTS}
    missing = set(_paths(records)) - shot_keys
    if missing:
        raise SystemExit(f"pages with no screenshot: {sorted(missing)}")
    left_out = set(NOT_HTML) - shot_keys
    assert all(key.endswith((".csv", ".xlsx}", ".xlsx", "}.{fmt}")) for key in left_out), left_out


def _path(shot: Shot, records: Records) -> str:
    if shot.key == "GET /login":
        return "/login"
    if shot.key == "GET /set-password/{token}":
        return records.set_password
    return _paths(records)[shot.key]


def _save(page: Any, path: Path) -> None:
    """A full-page PNG; if that is too large a file, the top of the page only, cut to
    MAX_HEIGHT px (and shorter again while the file is still too large)."""
    page.screenshot(path=str(path), full_page=True, animations="disabled")
    width = page.viewport_size["width"]
    height = MAX_HEIGHT
    while path.stat().st_size > MAX_BYTES and height >= 900:
        page.screenshot(path=str(path), full_page=True, animations="disabled",
                        clip={"x": 0, "y": 0, "width": width, "height": height})
        height -= 500


def _take(browser: Any, base_url: str, records: Records, out: Path) -> None:
    """Each role signs in once, in its own context, and shoots its pages."""
    for role in dict.fromkeys(shot.role for shot in SHOTS):
        context = browser.new_context(base_url=base_url,
                                      viewport={"width": WIDTHS[0], "height": 900})
        context.set_default_timeout(15_000)
        page = context.new_page()
        try:
            if role != SIGNED_OUT:
                _sign_in(page, records, role)
            for shot in (s for s in SHOTS if s.role == role):
                response = page.goto(_path(shot, records))
                if response is None or response.status != 200:
                    status = None if response is None else response.status
                    raise SystemExit(f"{shot.name}: {shot.key} as {role} answered {status}")
                if shot.name in PREPARE:
                    PREPARE[shot.name](page, records)
                page.wait_for_load_state("networkidle")
                for width in WIDTHS:
                    page.set_viewport_size({"width": width, "height": 900})
                    _save(page, out / f"{shot.name}-{width}.png")
                print(f"{shot.name}: {page.url}", flush=True)
        finally:
            context.close()


def _readme() -> str:
    rows = "\n".join(
        f"| {shot.title} | `{shot.key.split(' ', 1)[1]}` | {ROLE_NAMES[shot.role]} | "
        f"[![{shot.name} at 1280 px]({shot.name}-1280.png)]({shot.name}-1280.png) | "
        f"[![{shot.name} at 390 px]({shot.name}-390.png)]({shot.name}-390.png) |"
        for shot in SHOTS
    )
    return f"""# Screenshots

Every page of the service, as the role that uses it most, at 1280 px (desktop) and
390 px (phone) wide, against the small made-up organisation the browser tests seed (the
NQSW whose pages are shown is Sam Okafor). A page whose full-length image would be too
large a file is cut to its first {MAX_HEIGHT} px. At 390 px a wide table scrolls sideways
inside its own box, so the screenshot shows its first columns only.

To regenerate them (about a minute; needs Chromium at `{CHROMIUM}`):

```sh
.venv/bin/python -m tests.browser.screenshots
```

It seeds a fresh SQLite database as `tests/browser/test_accessibility.py` does, starts a
live server, and rewrites this folder. It stops if a page does not load, or if a new page
in the page access table (`app/auth/page_access.py`) has no screenshot listed in
`tests/browser/screenshots.py`.

| Page | Path | Seen as | 1280 px | 390 px |
| --- | --- | --- | --- | --- |
{rows}
"""


def main(argv: list[str] | None = None) -> int:
    from playwright.sync_api import sync_playwright

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT,
                        help="folder to write (default: %(default)s)")
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    assert set(ROLE_PEOPLE) | {SIGNED_OUT} >= {shot.role for shot in SHOTS}

    with tempfile.TemporaryDirectory(prefix="ringfence-shots-") as scratch:
        url = f"sqlite:///{Path(scratch) / 'ringfence.db'}"
        upgrade(url)
        records = seed_records(url)
        _check_coverage(records)
        with live_server(url, Path(scratch) / "data") as server, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for old in out.glob("*.png"):
                    old.unlink()
                _take(browser, server.base_url, records, out)
            finally:
                browser.close()
    (out / "README.md").write_text(_readme())
    print(f"wrote {len(SHOTS) * len(WIDTHS)} screenshots and README.md to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
