"""Your service classes, one module per participant (mermaidgen creates each module once
and never overwrites it)."""
