"""The posterior sample: where it lives, what its columns mean, and the one way to read it.

The calibration writes ``posterior.parquet``: one row per draw with ``draw``, the model parameters (scenario
parameter names), the observation parameters (:data:`emigre.observe.OBS_PARAMS`), ``logprior``, ``loglik``,
``logpost``, ``ll.<OBS id>`` (each fitted observation's log-likelihood) and ``pred.<OBS id>`` (what its
operator gave in that draw). Every reader - the main job, validation, leave-one-source-out, the benchmarks -
goes through this module, so a column means the same thing everywhere.

Two ways to take draws, for two purposes: :func:`draw_order` is the order in which an ensemble's runs take
*every* draw (run r takes row ``draw_order[r]``); :func:`pick_rows` picks a stratified subset of ``n`` rows for a
posterior predictive of fixed size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emigre.errors import EmigreError

#: columns of a posterior table that are neither model nor observation parameters (besides ``ll.``/``pred.``)
META_COLUMNS = frozenset({"draw", "logpost", "loglik", "logprior", "weight", "log_weight", "stage", "seed",
                          "run", "chain", "iteration", "accepted"})

#: seed of the fixed random order in which the runs take the posterior's draws
DRAW_ORDER_SEED = 20220224


def packaged_posterior_path(scenario: str = "russia-2022") -> Path:
    """Where the packaged posterior of ``scenario`` lives (it may not exist)."""
    return Path(__file__).resolve().parent.parent / "data" / scenario / "posterior.parquet"


def load_posterior(path: str | Path | None = None):
    """The posterior sample at ``path`` (a ``posterior.parquet`` or the folder holding it), rows numbered from 0;
    by default the packaged ``data/russia-2022/posterior.parquet`` if it exists, else None.

    A path that does not exist, a file that is not Parquet or an empty table is one clear error."""
    import pandas as pd

    if path is None:
        p = packaged_posterior_path()
        if not p.exists():
            return None
    else:
        p = Path(path)
        if p.is_dir():
            p = p / "posterior.parquet"
        if not p.exists() and not p.is_symlink():
            raise EmigreError(f"{p}: posterior sample not found (run `emigre calibrate` first)")
        from emigre.fileio import check_input_file

        check_input_file(p, what="posterior sample")  # a FIFO or /dev/zero would block or fill memory
    try:
        df = pd.read_parquet(p)
    except Exception as exc:  # pyarrow's errors for a file that is not Parquet (truncated, text, binary junk)
        raise EmigreError(f"{p}: not a readable posterior sample (expected the Parquet file `emigre calibrate` "
                          f"writes): {exc}") from None
    if df.empty:
        raise EmigreError(f"{p}: the posterior sample is empty")
    from emigre.observe.ranges import check_posterior_frame

    check_posterior_frame(df, p)  # every parameter inside the valid range its params.yaml declares
    return df.reset_index(drop=True)


def _is_parameter(df, c: str) -> bool:
    import pandas as pd

    return (c not in META_COLUMNS and not c.startswith(("ll.", "pred."))
            and pd.api.types.is_numeric_dtype(df[c]))


def model_param_names(df) -> list[str]:
    """The model parameters (scenario parameter names) of a posterior table, in column order."""
    from emigre.observe.params import OBS_PARAMS

    return [c for c in df.columns if c not in OBS_PARAMS and _is_parameter(df, c)]


def obs_param_names(df) -> list[str]:
    """The observation-model parameters present in a posterior table, in column order."""
    from emigre.observe.params import OBS_PARAMS

    return [c for c in df.columns if c in OBS_PARAMS and _is_parameter(df, c)]


def posterior_params(df, i: int) -> dict[str, float]:
    """The model parameters of draw row ``i`` (for ``simulate(params=...)``)."""
    row = df.iloc[int(i)]
    return {c: float(row[c]) for c in model_param_names(df)}


def calibrated_matrix(df, space) -> tuple[np.ndarray, list[str]]:
    """Every draw's calibrated parameters as a [draws, dim] matrix in the order of ``space`` (a
    :class:`~emigre.calibrate.space.ParameterSpace`), for the objective; a parameter the table lacks (added to
    the model after the posterior was made) takes its default, and the names so filled are returned too."""
    missing = [n for n in space.names if n not in df.columns]
    cols = [df[n].to_numpy(dtype=np.float64) if n in df.columns else np.full(len(df), float(d))
            for n, d in zip(space.names, space.defaults, strict=True)]
    return np.column_stack(cols) if cols else np.zeros((len(df), 0)), missing


def posterior_theta(df, i: int) -> dict[str, float]:
    """The observation-model parameters of draw row ``i`` (``theta`` of :func:`emigre.observe.predict_all`);
    only those the table has (callers fill the others with their defaults)."""
    row = df.iloc[int(i)]
    return {c: float(row[c]) for c in obs_param_names(df)}


def log_weights(df) -> np.ndarray:
    """Log importance weights of the draws (0 = an equally weighted sample, the usual case)."""
    if "log_weight" in df.columns:
        return df["log_weight"].to_numpy(dtype=np.float64)
    if "weight" in df.columns:
        with np.errstate(divide="ignore"):
            return np.log(df["weight"].to_numpy(dtype=np.float64))
    return np.zeros(len(df))


def draw_order(n: int) -> np.ndarray:
    """The fixed random order in which runs take a posterior's ``n`` draws: the sampler's rows come grouped by
    ancestor (systematic resampling), so the first rows are a narrow, unrepresentative corner of the posterior."""
    return np.random.default_rng(DRAW_ORDER_SEED).permutation(n)


def pick_rows(n_rows: int, n: int) -> np.ndarray:
    """``n`` rows of a posterior of ``n_rows`` draws, evenly spaced (every row once when n >= n_rows, then
    again: repeated rows get other seeds). Evenly spaced over rows grouped by ancestor is a stratified sample."""
    if n <= 0:
        raise EmigreError(f"--draws must be >= 1, got {n}")
    if n >= n_rows:
        return np.arange(n) % n_rows
    return np.unique(np.round(np.linspace(0, n_rows - 1, n)).astype(np.int64))


def ensemble_draws(df) -> list[dict[str, float]]:
    """The model parameters of every draw of ``df`` in :func:`draw_order` (run r takes element r)."""
    return [posterior_params(df, int(i)) for i in draw_order(len(df))]


__all__ = [
    "DRAW_ORDER_SEED",
    "META_COLUMNS",
    "calibrated_matrix",
    "draw_order",
    "ensemble_draws",
    "load_posterior",
    "log_weights",
    "model_param_names",
    "obs_param_names",
    "packaged_posterior_path",
    "pick_rows",
    "posterior_params",
    "posterior_theta",
]
