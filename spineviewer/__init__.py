"""SpineViewer: a desktop spine radiology viewer with local AI.

Demonstration software: not for clinical use.
"""

__version__ = "0.1.0.dev0"
