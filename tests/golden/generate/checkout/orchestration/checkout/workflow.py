"""WebWorkflow: the decisions of the workflow.

mermaidgen created this file once and will never overwrite it. The steps are generated
in checkout/_generated/wiring.py from the diagram; here you decide what each call
carries, which branch to take and how often to retry. Override any hook of
WebWorkflowBase; the defaults run the diagram's main path.
"""

from __future__ import annotations

from ._generated import wiring


class WebWorkflow(wiring.WebWorkflowBase):
    # Hooks you can override (see WebWorkflowBase for their defaults):
    #   request_orders_create_order: line 8
    pass
