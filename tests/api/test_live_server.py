"""The service answers over a real socket on both databases."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.support.live_server import live_server


def test_healthz_checks_the_database(fresh_database_url: str, tmp_path: Path) -> None:
    with live_server(fresh_database_url, tmp_path) as server:
        response = httpx.get(f"{server.base_url}/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
