"""Ensembles of exodus runs: seeds x parameter sets on local worker processes, stored run by run."""

from emigre.ensemble.run import parse_params, run_ensemble, write_single_run

__all__ = ["parse_params", "run_ensemble", "write_single_run"]
