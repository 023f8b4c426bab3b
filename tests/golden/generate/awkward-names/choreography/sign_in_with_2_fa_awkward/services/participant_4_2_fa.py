"""Participant42Fa: your business logic.

mermaidgen created this file once and will never overwrite it. The protocol (what this
service handles and what it publishes next) is generated in
sign_in_with_2_fa_awkward/_generated/wiring.py from the diagram; here you decide what events carry,
which branch to take, how often to loop, and what happens on the way. Override any hook
of Participant42FaBase; the defaults run the diagram's main path.
"""

from __future__ import annotations

from .._generated import wiring


class Participant42Fa(wiring.Participant42FaBase):
    # Hooks you can override (see Participant42FaBase for their defaults):
    #   on_send_code_123_456_to_user_s_phone(ctx): when it receives (line 12)
    #   payload_code_sent: line 13
    pass
