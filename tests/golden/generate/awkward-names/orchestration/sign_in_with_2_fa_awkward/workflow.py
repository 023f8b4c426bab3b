"""ImportWorkflow: the decisions of the workflow.

mermaidgen created this file once and will never overwrite it. The steps are generated
in sign_in_with_2_fa_awkward/_generated/wiring.py from the diagram; here you decide what each call
carries, which branch to take and how often to retry. Override any hook of
ImportWorkflowBase; the defaults run the diagram's main path.
"""

from __future__ import annotations

from ._generated import wiring


class ImportWorkflow(wiring.ImportWorkflowBase):
    # Hooks you can override (see ImportWorkflowBase for their defaults):
    #   request_service_2_fa_send_code_123_456_to_user_s_phone: line 12
    #   request_none_render_user_name_and_order_id: line 14
    pass
