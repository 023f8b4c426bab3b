"""`python -m mermaidgen`."""

from mermaidgen.commands.cli import main

main()
