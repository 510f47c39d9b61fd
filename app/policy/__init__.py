"""The policy engine: pure functions from an NQSW snapshot and a date to findings.

Nothing in this package touches the database, the clock or the network.
"""
