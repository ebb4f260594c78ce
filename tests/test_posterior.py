"""The one posterior reader (emigre.calibrate.posterior): one column rule, one loader, one draw order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from emigre.calibrate.posterior import (
    calibrated_matrix,
    draw_order,
    ensemble_draws,
    load_posterior,
    log_weights,
    model_param_names,
    obs_param_names,
    pick_rows,
    posterior_params,
    posterior_theta,
)
from emigre.errors import EmigreError
from emigre.observe import OBS_PARAMS


def _table() -> pd.DataFrame:
    obs = next(iter(OBS_PARAMS))
    return pd.DataFrame({
        "draw": [0, 1, 2], "baseline_emigration_per_year": [1e5, 2e5, 3e5], "return_per_year": [0.1, 0.2, 0.3],
        obs: [1.0, 2.0, 3.0], "logprior": [-1.0, -2.0, -3.0], "loglik": [-4.0, -5.0, -6.0],
        "logpost": [-5.0, -7.0, -9.0], "ll.OBS014": [-1.0, -1.5, -2.0], "pred.OBS014": [1e6, 1.1e6, 1.2e6],
        "weight": [0.5, 0.25, 0.25], "stage": [3, 3, 3],
    })


def test_columns_are_split_by_one_rule():
    df = _table()
    obs = next(iter(OBS_PARAMS))
    assert model_param_names(df) == ["baseline_emigration_per_year", "return_per_year"]
    assert obs_param_names(df) == [obs]
    assert posterior_params(df, 1) == {"baseline_emigration_per_year": 2e5, "return_per_year": 0.2}
    assert posterior_theta(df, 2) == {obs: 3.0}
    np.testing.assert_allclose(log_weights(df), np.log([0.5, 0.25, 0.25]))


def test_loader_reads_a_file_or_its_folder_and_refuses_bad_ones(tmp_path):
    df = _table()
    df.index = [10, 11, 12]  # rows are renumbered from 0
    df.to_parquet(tmp_path / "posterior.parquet")
    for where in (tmp_path, tmp_path / "posterior.parquet"):
        got = load_posterior(where)
        assert list(got.index) == [0, 1, 2] and got["return_per_year"].tolist() == [0.1, 0.2, 0.3]
    with pytest.raises(EmigreError, match="not found"):
        load_posterior(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    df.iloc[:0].to_parquet(tmp_path / "empty" / "posterior.parquet")
    with pytest.raises(EmigreError, match="empty"):
        load_posterior(tmp_path / "empty")
    (tmp_path / "text.parquet").write_text("draw\n0\n")
    with pytest.raises(EmigreError, match="not a readable posterior sample"):
        load_posterior(tmp_path / "text.parquet")


def test_draw_order_is_a_fixed_permutation_and_the_ensemble_takes_it():
    order = draw_order(200)
    assert sorted(order) == list(range(200)) and (order == draw_order(200)).all()
    assert (order[:20] != np.arange(20)).any()
    df = _table()
    assert ensemble_draws(df) == [posterior_params(df, int(i)) for i in draw_order(3)]


def test_pick_rows_is_a_stratified_subset():
    assert pick_rows(200, 5).tolist() == [0, 50, 100, 149, 199]
    assert pick_rows(3, 7).tolist() == [0, 1, 2, 0, 1, 2, 0]
    with pytest.raises(EmigreError):
        pick_rows(3, 0)


def test_calibrated_matrix_takes_the_space_order_and_fills_newer_parameters():
    from emigre.calibrate.space import default_space

    sp = default_space()
    df = pd.DataFrame({n: np.arange(3, dtype=float) + 10 * i for i, n in enumerate(sp.names)})
    df = df[list(reversed(sp.names))].drop(columns=["asylum_lag_days"])  # any column order; one parameter missing
    X, missing = calibrated_matrix(df, sp)
    assert missing == ["asylum_lag_days"] and X.shape == (3, sp.dim)
    j = sp.names.index("asylum_lag_days")
    assert (X[:, j] == sp.defaults[j]).all()  # the default (the prior's centre) where the table has none
    k = sp.names.index("return_per_year")
    assert X[:, k].tolist() == [10.0 * k, 10.0 * k + 1, 10.0 * k + 2]
