"""Legacy: your business logic.

mermaidgen created this file once and will never overwrite it. The protocol (what this
service handles and what it publishes next) is generated in
sign_in_with_2_fa_awkward/_generated/wiring.py from the diagram; here you decide what events carry,
which branch to take, how often to loop, and what happens on the way. Override any hook
of LegacyBase; the defaults run the diagram's main path.
"""

from __future__ import annotations

from .._generated import wiring


class Legacy(wiring.LegacyBase):
    # Hooks you can override (see LegacyBase for their defaults):
    #   on_charge_100_jpy_idempotency_key_42(ctx): when it receives (line 19)
    #   payload_event_2: line 20
    pass
