"""Exports for reporting upwards: the breach register, a workload snapshot and compliance
by team, each as CSV or XLSX, streamed.

`cells` neutralises formula-like text, `writers` streams a sheet in either format, and
`reports` builds each report's rows from the services and the engine's own measures.
"""
