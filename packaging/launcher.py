"""Entry point of the frozen application: the ``spineviewer`` command."""

import sys

from spineviewer.cli import main

if __name__ == "__main__":
    sys.exit(main())
