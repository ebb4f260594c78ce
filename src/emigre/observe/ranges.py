"""Valid ranges of every parameter, model and observation-model, and the checks that use both.

The model parameters' ranges are the scenario's (:mod:`emigre.scenario.ranges`, from ``params.yaml``); the
observation-model parameters' are :data:`emigre.observe.params.OBS_RANGES`. A check that accepts either kind
of name (``--param``, a posterior file, an API body) lives here, on the floor that knows both.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path

from emigre.errors import EmigreError
from emigre.observe.params import OBS_PARAMS, OBS_RANGES
from emigre.scenario.ranges import Range, check_value, model_ranges


def obs_ranges() -> dict[str, Range]:
    """Valid range of every observation-model parameter."""
    return {k: Range(*OBS_RANGES[k], unit=OBS_PARAMS[k].unit, source="observation model") for k in OBS_PARAMS}


def check_params(values: Mapping[str, object], scenario: str | Path = "russia-2022", *, where: str = "",
                 allow_unknown: bool = False) -> None:
    """Check every value of ``values`` (model or observation parameters) against its valid range; one
    :class:`EmigreError` naming the first bad one (its name, value and range). Unknown names are an error
    with close matches suggested, unless ``allow_unknown``."""
    model = model_ranges(scenario)
    obs = obs_ranges()
    for name, value in values.items():
        rng = model.get(name) or obs.get(name)
        if rng is None:
            if allow_unknown:
                continue
            close = difflib.get_close_matches(name, [*model, *obs], n=3)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            prefix = f"{where}: " if where else ""
            raise EmigreError(f"{prefix}unknown parameter {name!r}{hint}")
        check_value(name, value, rng, where=where)


def check_posterior_frame(df, path: object = None, scenario: str | Path = "russia-2022") -> None:
    """Every parameter column of a posterior table inside its valid range; the error names the file, the
    row (draw) and the parameter. Non-parameter columns (draw, log densities, ll./pred.) are skipped."""
    import numpy as np

    ranges = model_ranges(scenario) | obs_ranges()
    where = f"{path}" if path is not None else "posterior"
    for col in df.columns:
        rng = ranges.get(col)
        if rng is None:
            continue
        try:
            v = df[col].to_numpy(dtype=np.float64)
        except (TypeError, ValueError):
            raise EmigreError(f"{where}: column {col} is not numeric") from None
        bad = ~(np.isfinite(v) & (v >= rng.low) & (v <= rng.high))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise EmigreError(
                f"{where}, row {i + 1}, column {col}: value {v[i]:g} is outside its valid range {rng.text()} "
                f"({int(bad.sum())} of {len(v)} rows)"
            )


__all__ = ["check_params", "check_posterior_frame", "obs_ranges"]
