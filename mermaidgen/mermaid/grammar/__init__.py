"""The grammar of sequence diagrams (`sequence.lark`) and its LALR table (`table.py`)."""
