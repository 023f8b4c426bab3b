"""Client: your business logic.

mermaidgen created this file once and will never overwrite it. The protocol (the
operations this participant offers, the calls they make, the replies they give) is
generated in order_saga_the_payment_s_reply/_generated/wiring.py from the diagram; here you decide what
requests and replies carry and which reply to give. Override any hook of
ClientBase; the defaults run the diagram's main path.
"""

from __future__ import annotations

from .._generated import wiring


class Client(wiring.ClientBase):
    # Hooks you can override (see ClientBase for their defaults):
    pass
