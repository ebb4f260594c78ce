"""Benchmark: is a calibration evaluation at scale 50 a cheaper stand-in for one at scale 20?

Three fixed draws of the packaged posterior (rows 0, 137, 299) are evaluated by the default objective at scale 20
(seeds 0, 1) and at scale 50 (seeds 0-3); prints each evaluation's log-likelihood, headline predictions and CPU
seconds, and per draw the median and 90th percentile of |log(prediction at 50 / prediction at 20)| over every
figure with both predictions above 100 persons and of the same sign. Not a gate: the figures decide whether
``emigre calibrate --scale 50`` may replace the default (benchmarks/README.md).

    .venv/bin/python benchmarks/bench_scale_bias.py      # ~2 min
"""

from __future__ import annotations

import os

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402

ROWS = (0, 137, 299)
HEADS = ("OBS014", "OBS001", "OBS007", "OBS006", "OBS013", "OBS162", "OBS085", "OBS158")
SETTINGS = ((20.0, (0, 1)), (50.0, (0, 1, 2, 3)))


def main() -> None:
    from emigre.calibrate.objective import Objective
    from emigre.calibrate.posterior import calibrated_matrix, load_posterior
    from emigre.calibrate.space import default_space

    df, space = load_posterior(), default_space()
    M = calibrated_matrix(df, space)[0]  # a parameter newer than the posterior: its default
    preds = {}
    for scale, seeds in SETTINGS:
        obj = Objective.build(space, scale=scale, sim_seeds=seeds)
        shown = [(h, obj.obs_ids.index(h)) for h in HEADS if h in obj.obs_ids]
        for r in ROWS:
            x = M[r]
            ev = obj(x)
            preds[(scale, r)] = ev.pred
            heads = " ".join(f"{h}={ev.pred[i]:.4g}" for h, i in shown)
            print(f"scale {scale:g} seeds {len(seeds)} draw {r}: ll {ev.loglik:.1f} {heads} cpu {ev.cpu:.2f} s",
                  flush=True)
    for r in ROWS:
        a, b = preds[(20.0, r)], preds[(50.0, r)]
        ok = np.isfinite(a) & np.isfinite(b) & (np.abs(a) > 100) & (np.abs(b) > 100) & (a * b > 0)
        d = np.abs(np.log(np.abs(b[ok])) - np.log(np.abs(a[ok])))
        print(f"draw {r}: {int(ok.sum())} figures, |log(50/20)| median {np.median(d):.3f}, "
              f"90th percentile {np.quantile(d, 0.9):.3f}")


if __name__ == "__main__":
    main()
