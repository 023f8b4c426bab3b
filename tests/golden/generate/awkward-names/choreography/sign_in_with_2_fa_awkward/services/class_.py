"""Class: your business logic.

mermaidgen created this file once and will never overwrite it. The protocol (what this
service handles and what it publishes next) is generated in
sign_in_with_2_fa_awkward/_generated/wiring.py from the diagram; here you decide what events carry,
which branch to take, how often to loop, and what happens on the way. Override any hook
of ClassBase; the defaults run the diagram's main path.
"""

from __future__ import annotations

from .._generated import wiring


class Class(wiring.ClassBase):
    # Hooks you can override (see ClassBase for their defaults):
    #   on_done(ctx): when it receives (line 21)
    #   payload_def_login_self_user_admin_pass: line 11
    pass
