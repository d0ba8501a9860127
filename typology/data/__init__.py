"""The data side of the shell: dataset folders read and validated, written atomically, the
synthetic generator with known truth, and builders of datasets from real public sources."""

from .io import (
    check_dataset_folder,
    dataset_files,
    read_dataset,
    read_dataset_hashed,
    sha256_file,
    write_dataset,
)
from .registry import aggregate_registry
from .synth import SyntheticDataset, generate

__all__ = ["SyntheticDataset", "aggregate_registry", "check_dataset_folder", "dataset_files", "generate", "read_dataset",
           "read_dataset_hashed", "sha256_file", "write_dataset"]
