"""Class: your business logic.

mermaidgen created this file once and will never overwrite it. The protocol (the
operations this participant offers, the calls they make, the replies they give) is
generated in sign_in_with_2_fa_awkward/_generated/wiring.py from the diagram; here you decide what
requests and replies carry and which reply to give. Override any hook of
ClassBase; the defaults run the diagram's main path.
"""

from __future__ import annotations

from .._generated import wiring


class Class(wiring.ClassBase):
    # Hooks you can override (see ClassBase for their defaults):
    #   reply_done: line 21
    pass
