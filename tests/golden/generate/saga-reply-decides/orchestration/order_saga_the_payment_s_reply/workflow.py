"""OrderSagaWorkflow: the decisions of the workflow.

mermaidgen created this file once and will never overwrite it. The steps are generated
in order_saga_the_payment_s_reply/_generated/wiring.py from the diagram; here you decide what each call
carries, which branch to take and how often to retry. Override any hook of
OrderSagaWorkflowBase; the defaults run the diagram's main path.
"""

from __future__ import annotations

from ._generated import wiring


class OrderSagaWorkflow(wiring.OrderSagaWorkflowBase):
    # Hooks you can override (see OrderSagaWorkflowBase for their defaults):
    #   request_stock_reserve_stock: line 9
    #   request_pay_charge_card: line 11
    #   request_ship_schedule_delivery: line 14
    #   request_stock_release_stock: line 20
    pass
