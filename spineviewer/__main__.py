"""``python -m spineviewer`` runs the command line."""

import sys

from spineviewer.cli import main

if __name__ == "__main__":  # not when a spawned child process imports this module
    sys.exit(main())
