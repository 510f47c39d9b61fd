"""The demo's 25 NQSWs, each placed to show one thing the default policies do.

A team manager opening the demo should find every kind of finding next to the
ordinary, compliant cases around it: an NQSW over the early cap, one holding a child
protection plan alone, one with a complexity-4 case in month 2, one co-working CP
work correctly with an advanced practitioner, one signed off and holding CP work
legitimately, part-timers, one paused for maternity and one on a SWIP cohort.
The same profiles open every size of organisation; larger ones add generated NQSWs.
"""

from __future__ import annotations

from dataclasses import dataclass

# Facts that make a finding under the shipped policies (policies/*.toml).
OVER_CAP = "over_cap"  # stage-caps: more cases than the band allows
SOLE_CP = "sole_cp"  # cp-coworking + complexity-gates: a CP plan held alone
SOLE_CARE_PROCEEDINGS = "sole_care_proceedings"  # as above, for care proceedings
HIGH_COMPLEXITY = "high_complexity"  # complexity-gates: complexity 4 before month 6
COWORK_NON_AP = "cowork_non_ap"  # cp-coworking: CP co-worked, but the holder is no AP
PROBLEMS = (OVER_CAP, SOLE_CP, SOLE_CARE_PROCEEDINGS, HIGH_COMPLEXITY, COWORK_NON_AP)

# The shipped stage caps (stage-caps.toml): cases allowed by completed programme months.
STAGE_CAPS: tuple[tuple[int, int], ...] = ((3, 5), (6, 10), (10_000, 15))


def stage_cap(months: int, fte: float = 1.0) -> int:
    """The shipped cap at this stage, pro rata to FTE (rounded down: whole cases)."""
    for until, cap in STAGE_CAPS:
        if months < until:
            return int(cap * fte)
    return int(STAGE_CAPS[-1][1] * fte)  # pragma: no cover


@dataclass(frozen=True, slots=True)
class NqswProfile:
    """One NQSW's programme and caseload on the as-of date."""

    key: str
    team: int  # index of the team in generation order
    months: int  # completed programme months on the as-of date (net of pauses)
    days: int = 0  # days into the current programme month
    programme: str = "asye"
    fte: float = 1.0
    held: int = 0  # cases held alone that every gate allows at this stage
    coworked: int = 0  # CP cases co-worked with the team's advanced practitioner as holder
    problem: str | None = None
    signed_off_month: int | None = None  # child protection sign-off, in programme months
    cp_held: int = 0  # CP cases held alone after the sign-off
    past_pause_days: int = 0  # a health deferral that has ended
    past_pause_months_ago: int = 0
    maternity_months_ago: int | None = None  # an open maternity pause that began then
    reduced_cap: int | None = None  # an agreed individual reduction of the 6-month cap
    diary: str = "kept"  # protected time: "kept" or "slipping" (cancelled, not rebooked)
    supervision: str = "regular"  # "regular" or "lapsed" (nothing held for seven weeks)
    missed_review: int | None = None  # a review month never recorded
    shows: str = ""


FEATURED: tuple[NqswProfile, ...] = (
    # First: the demo NQSW sign-in (app.auth.demo) is the first NQSW; this one has a breach
    # to show, in the team that also shows co-working, a sign-off and a SWIP cohort.
    NqswProfile("complexity-four-early", 3, 2, 3, held=3, problem=HIGH_COMPLEXITY,
                shows="a complexity-4 case in month 2"),
    NqswProfile("settling-in", 1, 0, 9, held=2, shows="first weeks, light load"),
    NqswProfile("first-month", 2, 1, 5, held=4, shows="within the 5-case cap"),
    NqswProfile("over-early-cap", 1, 2, 10, held=7, problem=OVER_CAP,
                shows="7 cases in month 2 against a firm cap of 5"),
    NqswProfile("part-time-early", 0, 1, 20, fte=0.6, held=3, shows="part-time (0.6 FTE)"),
    NqswProfile("co-working-correctly", 3, 3, 12, held=6, coworked=2,
                shows="CP cases co-worked with the advanced practitioner as holder"),
    NqswProfile("sole-cp-holder", 4, 4, 2, held=6, problem=SOLE_CP,
                shows="holds a child protection plan alone in month 4"),
    NqswProfile("part-time-mid", 5, 4, 15, fte=0.8, held=5, shows="part-time (0.8 FTE)"),
    NqswProfile("co-worked-without-ap", 4, 5, 6, held=6, problem=COWORK_NON_AP,
                shows="co-works a CP case whose holder is not an advanced practitioner"),
    NqswProfile("steady-month-five", 6, 5, 20, held=8, coworked=1, shows="within the cap"),
    NqswProfile("just-past-six", 2, 6, 4, held=10, shows="the cap rose to 15 at month 6"),
    NqswProfile("signed-off-cp", 3, 7, 10, held=11, signed_off_month=6, cp_held=2,
                shows="signed off for CP work: holds CP plans alone legitimately"),
    NqswProfile("over-flexible-cap", 5, 7, 18, held=17, problem=OVER_CAP, diary="slipping",
                shows="17 cases against the flexible cap of 15 (a warning); protected days "
                "cancelled under the pressure and not rebooked"),
    NqswProfile("care-proceedings-holder", 6, 8, 8, held=10, problem=SOLE_CARE_PROCEEDINGS,
                shows="holds care proceedings alone without a sign-off"),
    NqswProfile("part-time-late", 7, 8, 25, fte=0.6, held=8, missed_review=6,
                shows="part-time (0.6 FTE); the 6-month review was never recorded"),
    NqswProfile("signed-off-experienced", 4, 9, 12, held=11, signed_off_month=7, cp_held=3,
                shows="signed off in month 7"),
    NqswProfile("back-from-sick-leave", 0, 7, 14, held=9, past_pause_days=42,
                past_pause_months_ago=4, shows="a 6-week health deferral moved the clock"),
    NqswProfile("month-ten", 2, 10, 3, held=13, coworked=1, supervision="lapsed",
                shows="within the cap, but supervision has lapsed for seven weeks"),
    NqswProfile("maternity-leave", 6, 7, 10, maternity_months_ago=3,
                shows="paused for maternity; cases reallocated at the pause"),
    NqswProfile("nearly-done", 1, 11, 15, held=14, coworked=1, shows="final review due"),
    NqswProfile("signed-off-month-eleven", 5, 11, 2, held=12, signed_off_month=6, cp_held=2,
                shows="signed off in month 6"),
    NqswProfile("swip-cohort", 3, 14, 6, programme="swip", held=12, coworked=2,
                shows="on the 24-month SWIP cohort"),
    NqswProfile("at-three-months", 7, 3, 0, held=6,
                shows="6 cases on the day the cap rose from 5 to 10"),
    NqswProfile("agreed-lower-cap", 0, 6, 21, fte=0.8, held=7, reduced_cap=10,
                shows="an agreed cap of 10 after month 6, as agreed (not pro rata to 8)"),
    NqswProfile("starts-today", 5, 0, 0, shows="first day of the programme"),
)
