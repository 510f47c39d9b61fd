"""Benchmarks at the size of the largest organisation (issue 7): `python -m bench.run`.

run.py orchestrates; scenarios.py says what each user does; driver.py is the load
generator (its own process); server.py runs uvicorn and watches its memory;
sweep_job.py times the daily sweep; report.py writes docs/benchmarks.md. The
organisation itself comes from app/demo, the generator behind `ringfence demo`.
"""
