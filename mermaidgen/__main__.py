"""`python -m mermaidgen`."""

from mermaidgen.cli import main

main()
