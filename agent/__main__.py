"""`python -m agent` runs the same CLI as the `agent` console script."""

from agent.cli import main

main()
