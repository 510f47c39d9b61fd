"""Ringfence: makes the caseload, development-time and supervision promises made to
newly qualified social workers measurable, and their breaches visible."""
