"""Conformance test data for mermaidgen's parser: diagrams, mermaid.js's own results for them
(expected.jsonl, made by refresh.py) and the helpers that compare the two (compare.py)."""
