"""The workflow: run configuration, the pipeline, run folders and their manifest, the report and
its figures, the experiments and the Monte Carlo study.

Modules: :mod:`.config` (TOML configuration checked before any work), :mod:`.pipeline`
(features -> typology -> models in memory), :mod:`.manifest` (what a run folder lists and the
checks on it), :mod:`.runs` (fit, reproduce, score, demo), :mod:`.report` and :mod:`.figures`,
:mod:`.experiments`, :mod:`.montecarlo`, :mod:`.progress`. Imported on use (the report pulls in
matplotlib).
"""
