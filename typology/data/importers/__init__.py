"""Importers of the sources users hold into the data contract: Rosstat's municipal database
(wide extract and long format), the SberIndex municipal tables, SPARK and Contour.Focus
registry exports; the crosswalk of municipal reforms; :func:`import_dataset` combining them.
Each importer returns the contract tables and an :class:`ImportReport`."""

from .combine import build_tables, import_dataset, read_towns
from .crosswalk import (
           carry,
           combine_crosswalks,
           crosswalk_from_dictionary,
           crosswalk_from_stable,
           resolve,
)
from .registry import match_addresses, read_mapping, read_registry_export
from .report import ImportDataError, ImportReport
from .rosstat import read_bdmo_long, read_rosstat_wide
from .sberindex import read_dictionary, read_sberindex

__all__ = ["ImportDataError", "ImportReport", "build_tables", "carry", "combine_crosswalks", "crosswalk_from_dictionary",
           "crosswalk_from_stable", "import_dataset", "match_addresses", "read_bdmo_long", "read_dictionary", "read_mapping",
           "read_registry_export", "read_rosstat_wide", "read_sberindex", "read_towns", "resolve"]
