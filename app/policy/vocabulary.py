"""The closed vocabularies the policies speak in: roles, programmes, case categories, sign-offs.

They live here, not with the tables, so that the engine reads them without loading the
database layer; `app.models.base` re-exports them for the columns that store them.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    nqsw = "nqsw"
    advanced_practitioner = "advanced_practitioner"
    social_worker = "social_worker"
    team_manager = "team_manager"
    senior_manager = "senior_manager"
    asye_coordinator = "asye_coordinator"
    admin = "admin"


class Programme(StrEnum):
    asye = "asye"
    swip = "swip"


PROGRAMME_MONTHS: dict[Programme, int] = {Programme.asye: 12, Programme.swip: 24}


class CaseCategory(StrEnum):
    """The built-in categories; an organisation may add more in `policies/categories.toml`."""

    early_help = "early_help"
    child_in_need = "child_in_need"
    child_protection_plan = "child_protection_plan"
    care_proceedings = "care_proceedings"
    looked_after = "looked_after"
    care_leaver = "care_leaver"
    court_work = "court_work"
    other = "other"


class SignOffKind(StrEnum):
    """The built-in readiness sign-offs; an organisation may add more in
    `policies/sign-offs.toml`. A policy naming a kind that is in neither list is refused,
    because a misspelt kind would never match a recorded sign-off and the rule would
    never lift."""

    child_protection = "child_protection"
