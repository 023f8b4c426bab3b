"""None_: your business logic.

mermaidgen created this file once and will never overwrite it. The protocol (what this
service handles and what it publishes next) is generated in
sign_in_with_2_fa_awkward/_generated/wiring.py from the diagram; here you decide what events carry,
which branch to take, how often to loop, and what happens on the way. Override any hook
of None_Base; the defaults run the diagram's main path.
"""

from __future__ import annotations

from .._generated import wiring


class None_(wiring.None_Base):
    # Hooks you can override (see None_Base for their defaults):
    #   on_render_user_name_and_order_id(ctx): when it receives (line 14)
    #   payload_script_script_alert_1_script: line 15
    pass
