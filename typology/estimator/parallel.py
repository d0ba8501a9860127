"""Seeds and parallel tasks: results identical for any ``n_jobs``.

Every random task draws from its own ``numpy`` generator whose seed is a child of the
estimator's ``random_state`` addressed by a fixed key (purpose, k, replicate), never by the
order in which workers pick tasks up. Each task runs with one BLAS / OpenMP thread, so the
floating-point arithmetic of a task does not depend on how many workers share the machine.

:func:`run_tasks` is :func:`models.compute.run_tasks`: the tasks run on the ambient compute
backend (local joblib workers, or a dask cluster inside :func:`models.compute_backend`).
"""

from __future__ import annotations

import numpy as np

from models.compute import run_tasks

__all__ = ["entropy_of", "int_seed", "rng_for", "run_tasks"]


def entropy_of(random_state) -> int:
    """Root entropy from ``random_state`` (int, None or SeedSequence); None draws fresh entropy."""
    if isinstance(random_state, np.random.SeedSequence):
        return int(random_state.entropy)
    if random_state is None:
        return int(np.random.SeedSequence().entropy)
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool) and random_state >= 0:
        return int(random_state)
    raise ValueError(f"random_state must be None or a non-negative int, found {random_state!r}")


def seed_sequence(entropy: int, *key: int) -> np.random.SeedSequence:
    return np.random.SeedSequence(entropy, spawn_key=tuple(int(k) for k in key))


def rng_for(entropy: int, *key: int) -> np.random.Generator:
    """Generator for the task addressed by ``key``."""
    return np.random.default_rng(seed_sequence(entropy, *key))


def int_seed(entropy: int, *key: int) -> int:
    """A 31-bit integer seed (for scikit-learn ``random_state``) for the task addressed by ``key``."""
    return int(seed_sequence(entropy, *key).generate_state(1, dtype=np.uint32)[0] >> 1)
