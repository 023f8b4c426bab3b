"""Saga: your business logic.

mermaidgen created this file once and will never overwrite it. The protocol (what this
service handles and what it publishes next) is generated in
order_saga_with_compensation/_generated/wiring.py from the diagram; here you decide what events carry,
which branch to take, how often to loop, and what happens on the way. Override any hook
of SagaBase; the defaults run the diagram's main path.
"""

from __future__ import annotations

from .._generated import wiring


class Saga(wiring.SagaBase):
    # Hooks you can override (see SagaBase for their defaults):
    #   on_start_order_saga(ctx): when it receives (line 10)
    #   on_stock_reserved(ctx): when it receives (line 12)
    #   on_payment_captured(ctx): when it receives (line 15)
    #   on_shipment_created(ctx): when it receives (line 18)
    #   on_payment_refunded(ctx): when it receives (line 23)
    #   on_stock_released(ctx): when it receives (line 25)
    #   on_payment_declined(ctx): when it receives (line 29)
    #   payload_reserve_stock: line 11
    #   payload_charge_payment: line 13
    #   recover_book_the_shipment: line 16
    #   payload_create_shipment: line 17
    #   payload_refund_payment: line 22
    #   payload_order_confirmed: line 19
    #   payload_release_stock: line 24
    #   payload_order_cancelled: line 26
    #   payload_order_rejected: line 32
    pass
