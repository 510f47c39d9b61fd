"""Protected-time entitlement: the old import path of `app.policy.entitlement`.

The arithmetic is pure and the `protected_time` rule needs it, so it lives in the
engine (which imports nothing from the services); callers outside the engine that
still import it from here get the very same functions.
"""

from app.policy.entitlement import *  # noqa: F403
