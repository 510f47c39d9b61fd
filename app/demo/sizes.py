"""How big each synthetic organisation is.

`small` is the demo a team manager clicks through; `medium` is about four times that;
`large` is the largest English employer with headroom (domain.md, "Scale of one
organisation"): about 2,000 staff, 300 NQSWs on ASYE and SWIP cohorts at every stage,
50,000 open cases and three years of closed work.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SizeSpec:
    name: str
    service_areas: int
    teams: int
    staff: int  # everyone, managers and leavers included (approximately)
    nqsws: int  # NQSWs on a programme now (active or paused)
    open_cases: int  # open cases on the as-of date (a few await allocation)
    history_years: int  # years of closed cases and ended allocations before as-of
    closed_per_open_per_year: float  # closed cases per open case per year of history
    swip_share: float  # share of the non-featured NQSWs on a SWIP cohort
    breach_share: float  # share of the non-featured NQSWs given one breach-making fact
    leaver_share_per_year: float  # share of case-holding staff who left, per year of history


SIZES: dict[str, SizeSpec] = {
    "small": SizeSpec(
        name="small", service_areas=3, teams=8, staff=120, nqsws=25, open_cases=1_150,
        history_years=1, closed_per_open_per_year=0.3, swip_share=0.0, breach_share=0.0,
        leaver_share_per_year=0.05,
    ),
    "medium": SizeSpec(
        name="medium", service_areas=6, teams=32, staff=480, nqsws=100, open_cases=4_600,
        history_years=1, closed_per_open_per_year=0.3, swip_share=0.3, breach_share=0.12,
        leaver_share_per_year=0.05,
    ),
    "large": SizeSpec(
        name="large", service_areas=10, teams=100, staff=2_000, nqsws=300, open_cases=50_000,
        history_years=3, closed_per_open_per_year=0.8, swip_share=0.55, breach_share=0.12,
        leaver_share_per_year=0.04,
    ),
}


def size_spec(name: str) -> SizeSpec:
    try:
        return SIZES[name]
    except KeyError:
        raise ValueError(f"unknown size {name!r}: choose one of {', '.join(SIZES)}") from None
