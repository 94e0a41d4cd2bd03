"""``python -m spineviewer`` runs the command line."""

import sys

from spineviewer.cli import main

sys.exit(main())
