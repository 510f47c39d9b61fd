"""Background work that owns its own transactions.

A request commits once, in the session dependency (app.db.get_session), and the
services it calls only flush. Work that runs outside any request has no such
dependency to lean on, so it opens its sessions here and decides where each
transaction ends: email delivery claims a message in one transaction and records the
outcome in another so that no lock is held while a mail server answers; the sweep
commits each batch of NQSWs so that locks on them are held briefly; the daily digest
and the start-up record of policy versions each take a cross-worker lock for one short
transaction. The use cases themselves (composing a digest, reconciling a batch,
writing a policy version) stay in app.services and run in whatever transaction they
are given.

* `transaction`: one committed unit of background work.
* `outbox`: delivering queued email, re-queueing what was given up, the per-minute run.
* `digest`: building the day's digest emails, once, whichever worker gets there first.
* `sweep`: the sweep in committed batches.
* `scheduler`: the cross-worker job lock and the threads that run the jobs in a worker.
* `policy_versions`: each policy version on the audit trail, once, at start-up.
"""
