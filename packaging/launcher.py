"""Entry point of the frozen application: the ``spineviewer`` command."""

import multiprocessing
import sys

from spineviewer.cli import main

if __name__ == "__main__":
    # the viewer reads headers, and batch runs its jobs, in spawned child processes: in a
    # frozen app each child starts this executable, which must then act as that child
    multiprocessing.freeze_support()
    sys.exit(main())
