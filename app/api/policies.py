"""The policies in force, structured and as the plain-English promise they make."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.boundary import BoundaryRoute
from app.api.deps import PoliciesDep
from app.policy.policies import PROGRAMMES
from app.policy.statement import describe_policy_set, programme_heading
from app.schemas.workload import PoliciesOverview, PolicyView, ProgrammePolicies

router = APIRouter(route_class=BoundaryRoute, tags=["policies"])


@router.get("/policies")
def list_policies(policies: PoliciesDep) -> PoliciesOverview:
    """Every policy, and per programme the active ones with "What we promise our NQSWs"."""
    return PoliciesOverview(
        version=policies.version,
        policies=[PolicyView.model_validate(p) for p in describe_policy_set(policies)],
        programmes=[
            ProgrammePolicies(
                programme=programme,
                heading=programme_heading(programme),
                policies=[
                    PolicyView.model_validate(p)
                    for p in describe_policy_set(policies, programme)
                ],
            )
            for programme in PROGRAMMES
        ],
    )
