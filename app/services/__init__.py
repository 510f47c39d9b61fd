"""Use cases and their queries. Services flush; the request session commits."""
