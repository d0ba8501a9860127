"""``typology.importers``: the importers of real sources (see :mod:`typology.data.importers`)."""

from .data.importers import *  # noqa: F403
from .data.importers import __all__  # noqa: F401
