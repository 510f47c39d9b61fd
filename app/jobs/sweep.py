"""The sweep with one committed transaction per batch of NQSWs.

Run by the daily scheduler, `ringfence sweep` and the demo loader. Committing each
batch keeps the locks on its NQSWs short, so a sweep over a large organisation does not
hold up allocations for its whole length; a batch that fails is rolled back on its own
and the batches before it stand (the next sweep reconciles the rest).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlmodel import Session

from app.jobs.transaction import transaction
from app.services import override_requests
from app.services.sweep import BATCH_SIZE, SweepReport, population, sweep_batch

if TYPE_CHECKING:
    from app.policy.registry import PolicySet



def run_sweep(
    engine: Engine, *, as_of: date, policies: PolicySet, batch_size: int = BATCH_SIZE
) -> SweepReport:
    """The sweep with one committed transaction per batch (command line, scheduler)."""
    with Session(engine) as session:
        ids = population(session, as_of)
    report = SweepReport(as_of=as_of, nqsws=len(ids))
    for start in range(0, len(ids), batch_size):
        with transaction(engine) as session:
            report.add(sweep_batch(session, staff_ids=ids[start:start + batch_size],
                                   as_of=as_of, policies=policies))
        report.batches += 1
    # Override requests nobody decided in time lapse with the day, and their askers are told.
    with transaction(engine) as session:
        override_requests.expire_due(session, as_of)
    return report
