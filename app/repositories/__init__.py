"""Every query of the application, one module per aggregate (mirroring app/models/).

Services, routes and page builders ask a repository; none of them writes `select`,
`session.get` or `execute` (tests/unit/test_layers.py keeps it that way). A predicate
that more than one question needs (a case open on a date, an allocation held on a date,
an NQSW's current enrolment, a person's terms on a date) is written once here and named
for the domain, so nothing can read today's value where a date's value is asked for.
"""
