"""SagaWorkflow: the decisions of the workflow.

mermaidgen created this file once and will never overwrite it. The steps are generated
in order_saga_with_compensation/_generated/wiring.py from the diagram; here you decide what each call
carries, which branch to take and how often to retry. Override any hook of
SagaWorkflowBase; the defaults run the diagram's main path.
"""

from __future__ import annotations

from ._generated import wiring


class SagaWorkflow(wiring.SagaWorkflowBase):
    # Hooks you can override (see SagaWorkflowBase for their defaults):
    #   recover_book_the_shipment: line 16
    #   request_inventory_reserve_stock: line 11
    #   request_payment_charge_payment: line 13
    #   request_shipping_create_shipment: line 17
    #   request_payment_refund_payment: line 22
    #   request_inventory_release_stock: line 24
    pass
