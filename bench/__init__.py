"""Benchmarks at the size of the largest organisation (issue 7): `python -m bench.run`.

run.py orchestrates (and asks the running server for the daily sweep); scenarios.py
says what each user does, signed in as whom; driver.py is the load generator (its own
process); server.py runs uvicorn and watches its memory and CPU; memory.py reads a
process's own peak memory; sweep_job.py times the sweep in a fresh process, as
`ringfence sweep` runs it; engine_bench.py times the pure policy engine; report.py
writes docs/benchmarks.md. The organisation itself comes from app/demo, the generator
behind `ringfence demo`.
"""
