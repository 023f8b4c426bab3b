"""Legacy: your business logic.

mermaidgen created this file once and will never overwrite it. The protocol (the
operations this participant offers, the calls they make, the replies they give) is
generated in sign_in_with_2_fa_awkward/_generated/wiring.py from the diagram; here you decide what
requests and replies carry and which reply to give. Override any hook of
LegacyBase; the defaults run the diagram's main path.
"""

from __future__ import annotations

from .._generated import wiring


class Legacy(wiring.LegacyBase):
    # Hooks you can override (see LegacyBase for their defaults):
    #   reply_charge_100_jpy_idempotency_key_42: line 19
    pass
