"""Participant42Fa: your business logic.

mermaidgen created this file once and will never overwrite it. The protocol (the
operations this participant offers, the calls they make, the replies they give) is
generated in sign_in_with_2_fa_awkward/_generated/wiring.py from the diagram; here you decide what
requests and replies carry and which reply to give. Override any hook of
Participant42FaBase; the defaults run the diagram's main path.
"""

from __future__ import annotations

from .._generated import wiring


class Participant42Fa(wiring.Participant42FaBase):
    # Hooks you can override (see Participant42FaBase for their defaults):
    #   reply_send_code_123_456_to_user_s_phone: line 12
    pass
