"""Importing staff, cases and allocations from a case-management system's exports.

Liquidlogic LCS/EHM, Mosaic and Eclipse keep who works where, which cases are open and
who holds them; their CSV and XLSX exports are read here through a mapping profile
(`profiles.py`), checked row by row (`rows.py`), compared with what the service holds
(`plan.py`) and written in one transaction, followed by one reconciliation per NQSW
the import touched (`apply.py`).
"""
