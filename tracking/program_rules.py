"""Per-process cache of a program's commission rules for the conversion path.

Every rule- and rate-changing service bumps `Program.cache_version` (merchants/services.py) and the
conversion doors read the program row fresh on every request, so an entry is valid while the
program's (cache_version, created_at) is unchanged — a rule change is seen by the very next
conversion. Entries also expire after RULE_CACHE_SECONDS, which bounds edits that bypass the
services (the Django admin). Off in tests unless `TRACKING_RULE_CACHE = True` (ids are reused there).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from django.conf import settings

from merchants.models import CommissionRule, Program

RULE_CACHE_SECONDS = 30
MAX_CACHED_PROGRAMS = 10_000

# program id -> (validity key, expires_at monotonic, {action: rule})
_rules: dict[int, tuple[tuple[Any, ...], float, dict[str, CommissionRule]]] = {}
_lock = threading.Lock()


def enabled() -> bool:
    """Whether rules are cached in this process (default on, off under pytest unless enabled)."""
    default = not getattr(settings, "TESTING", False)
    return bool(getattr(settings, "TRACKING_RULE_CACHE", default))


def rule_for(program: Program, action: str) -> CommissionRule | None:
    """The program's rule for the action (None when it pays nothing for it); cached instances are read-only."""
    if not enabled():
        return CommissionRule.objects.for_network(program.network_id).filter(program=program, action=action).first()
    key = (program.cache_version, program.created_at)
    now = time.monotonic()
    found = _rules.get(program.pk)
    if found is None or found[0] != key or found[1] <= now:
        rules = {rule.action: rule for rule in CommissionRule.objects.for_network(program.network_id)
                 .filter(program=program)}
        found = (key, now + RULE_CACHE_SECONDS, rules)
        with _lock:
            if len(_rules) >= MAX_CACHED_PROGRAMS:
                _rules.clear()
            _rules[program.pk] = found
    return found[2].get(action)


def clear() -> None:
    """Forget every cached rule set of this process (tests)."""
    with _lock:
        _rules.clear()
