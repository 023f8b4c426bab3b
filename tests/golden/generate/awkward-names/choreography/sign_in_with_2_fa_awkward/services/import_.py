"""Import: your business logic.

mermaidgen created this file once and will never overwrite it. The protocol (what this
service handles and what it publishes next) is generated in
sign_in_with_2_fa_awkward/_generated/wiring.py from the diagram; here you decide what events carry,
which branch to take, how often to loop, and what happens on the way. Override any hook
of ImportBase; the defaults run the diagram's main path.
"""

from __future__ import annotations

from .._generated import wiring


class Import(wiring.ImportBase):
    # Hooks you can override (see ImportBase for their defaults):
    #   on_def_login_self_user_admin_pass(ctx): when it receives (line 11)
    #   on_code_sent(ctx): when it receives (line 13)
    #   payload_send_code_123456_to_user_s_phone: line 12
    #   payload_render_user_name_and_order_id: line 14
    pass
