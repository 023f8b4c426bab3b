"""OrderService: your business logic.

mermaidgen created this file once and will never overwrite it. The protocol (the
operations this participant offers, the calls they make, the replies they give) is
generated in sign_in_with_2_fa_awkward/_generated/wiring.py from the diagram; here you decide what
requests and replies carry and which reply to give. Override any hook of
OrderServiceBase; the defaults run the diagram's main path.
"""

from __future__ import annotations

from .._generated import wiring


class OrderService(wiring.OrderServiceBase):
    # Hooks you can override (see OrderServiceBase for their defaults):
    #   request_order_service_order_created_orders_v_1: line 17
    #   reply_script_script_alert_1_script: line 15
    pass
