"""Corpus analytics and topic modelling for researchers.

The package reads a corpus (``analysis.corpus``), turns it into tokens
(``analysis.tokens``), computes tidy tables (``analysis.terms``), draws them
(``analysis.plots``), registers every figure once (``analysis.figures``) and
writes them reproducibly (``analysis.export``). ``analysis.cli`` is the
command line on top of the same functions.
"""

import logging
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("corpus-analysis")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

# A library never configures logging; the CLI does.
logging.getLogger(__name__).addHandler(logging.NullHandler())
