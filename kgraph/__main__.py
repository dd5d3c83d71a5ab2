"""``python -m kgraph`` runs the command-line interface."""

from kgraph.cli import main

main()
