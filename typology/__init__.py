"""Town typology and the toolkit's shell: reading datasets, typologies, run folders, reports, CLI."""

from .io import read_dataset, write_dataset
from .synth import generate

__all__ = ["generate", "read_dataset", "write_dataset"]
