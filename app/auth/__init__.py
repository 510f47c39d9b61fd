"""Accounts, sign-in, tokens, sessions and the one place where access is decided.

Entry points for the rest of the service:

- `authorize`: the dependency on the `/api/v1` router; every API route goes through it.
- `PrincipalDep` / `Principal`: the caller, for handlers that act in their name or list
  what is within their reach (see app.repositories.account for list filters).
- app.auth.web: the page-side helpers (`current_page_user`, `csrf_token`, sign-in/out).
- `app.auth.demo.ensure_demo_accounts(session)`: demo sign-ins, one per role (never in
  production mode).
"""

from app.auth.dependencies import PrincipalDep, authorize, current_principal
from app.auth.principal import Principal

__all__ = ["Principal", "PrincipalDep", "authorize", "current_principal"]
