"""Benchmark: simulation-based calibration (SBC) of the posterior sampler, over EVERY calibrated parameter.

For each replicate: draw "true" parameters from the prior, generate data from them, run the sampler on those
data, and record whether each parameter's central 90% posterior interval (5-95% quantiles of the draws)
covers the truth and the truth's rank among the draws (uniform if the posterior is calibrated). Coverage per
parameter and overall (target 85-95% overall, no parameter below 75%), the rank histogram and the time.

Two targets:

- ``--target known`` (cheap, seconds): a 56-parameter linear-Gaussian model with the calibration's shape -
  a correlated likelihood on 40 parameters (with a ridge: two informed only through their sum) and 16
  parameters no datum informs - sampled by the same ``tempered_smc`` the calibration uses. Checks the
  sampler alone.
- ``--target simulator`` (the real thing): every parameter of ``emigre.calibrate.default_space()`` drawn
  from their priors, the truth simulated with a seed of its own (so the synthetic figures carry simulation
  noise the calibration's seed does not share, as real figures do), the same observation operators on the
  observations that end by ``--end``, an error drawn from each observation's likelihood (Student-t, 3 d.o.f.,
  its source-quality scale; bounds and ranges become points), then ``calibrate`` (fit + SMC) with
  ``--budget`` (a cap), ``--particles``, ``--scale``. The default is sized to finish in a few hours on one
  core (24 replicates x 1,500 evaluations at scale 500: measured 506 s per replicate, ~3.4 h); at that budget
  the sampler does not decorrelate (each replicate says so). Scale up with ``--budget`` (a decorrelated
  56-parameter run needs ~10-30x more), ``--replicates``, ``--scale``, ``--workers``.

    .venv/bin/python benchmarks/bench_sbc.py --target known [--replicates 40] [--particles 500]
    .venv/bin/python benchmarks/bench_sbc.py --target simulator [--replicates 24] [--scale 500] [--budget 1500]

Prints; writes a JSON with every replicate (``--json``). Does not gate anything. Figures in docs/calibrate.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np


# ---------------------------------------------------------------------- the known target
def known_model(d: int = 56, informed: int = 40, seed: int = 0):
    """Prior N(0, I); y = theta[:informed] + noise with precision P (the known target's, see
    emigre.calibrate.known_target); the last d - informed parameters are not informed. Returns (P, sample_y)."""
    from emigre.calibrate.known_target import ridge_precision

    pk = ridge_precision(np.random.default_rng(seed), informed)
    noise_chol = np.linalg.cholesky(np.linalg.inv(pk))

    def sample_y(theta, rng):
        return theta[:informed] + noise_chol @ rng.standard_normal(informed)

    return pk, sample_y


def known_replicate(r: int, args) -> tuple[np.ndarray, np.ndarray, dict]:
    from emigre.calibrate.smc import tempered_smc

    d, informed = 56, 40
    pk, sample_y = known_model(d, informed)
    rng = np.random.default_rng([args.seed, r])
    theta = rng.standard_normal(d)
    y = sample_y(theta, rng)

    def ll(u, stage):
        x = u[:, :informed] - y
        return -0.5 * np.einsum("ij,jk,ik->i", x, pk, x), [None] * len(u)

    res = tempered_smc(lambda u: -0.5 * (u * u).sum(1), lambda g, n: g.standard_normal((n, d)), ll,
                       n=args.particles, rng=np.random.default_rng([args.seed, r, 1]),
                       budget=args.budget or None)
    return theta, res.U, {"evaluations": res.evaluations, "decorrelated": res.converged,
                          "stages": len(res.stages)}


# ---------------------------------------------------------------------- the simulator
def synthetic_observations(objective, x_true, truth_seed: int, rng: np.random.Generator):
    """The objective's observations with values generated at ``x_true`` (simulated with ``truth_seed``) plus
    an error drawn from each one's likelihood."""
    from emigre.calibrate.objective import _simulate_capped

    sp, s = objective.space, objective.spec
    params, _ = sp.split(x_true)
    result = _simulate_capped(s.scenario, truth_seed, params, s.scale, s.end, None)
    pred = objective.predict([result], x_true)
    out = []
    # the observation error alone: the simulation's own noise is already in the truth (its own seed)
    factor = objective.error_factor_of(x_true)  # the true multiplier of the observation errors
    for o, p, sigma, f in zip(objective.observations, pred, objective.sigma_obs, objective.floor_obs, strict=True):
        t = np.arcsinh(p / (2 * f)) + math.log(f) + factor * sigma * rng.standard_t(3)
        y = 2 * f * math.sinh(t - math.log(f))
        out.append(replace(o, quantity=float(y), low=None, high=None, bound="point"))
    return tuple(out)


def simulator_replicate(r: int, args, space, base) -> tuple[np.ndarray, np.ndarray, dict]:
    from emigre.calibrate import calibrate

    rng = np.random.default_rng([args.seed, r])
    x_true = space.sample(rng, 1)[0]
    obs = synthetic_observations(base, x_true, truth_seed=10_000 + r, rng=rng)
    res = calibrate(space=space, observations=obs, budget=args.budget, particles=args.particles,
                    workers=args.workers, scale=args.scale, end=args.end, seed=args.seed + r,
                    sim_seeds=(args.seed,), out=None, progress=False)
    draws = res.posterior[space.names].to_numpy()
    smc = res.fit["smc"]
    return x_true, draws, {"evaluations": res.fit["evaluations"]["requested"], "decorrelated": smc["decorrelated"],
                           "complete": smc["complete"], "stages": len(smc["stages"])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", choices=["known", "simulator"], default="simulator")
    ap.add_argument("--replicates", type=int, default=None, help="default: 40 (known), 24 (simulator)")
    ap.add_argument("--budget", type=int, default=None,
                    help="evaluations per calibration, a cap (default: none for known, 1500 for simulator)")
    ap.add_argument("--particles", type=int, default=None, help="default: 500 (known), 60 (simulator)")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--scale", type=float, default=500.0)
    ap.add_argument("--end", default="2022-10-31", help="simulated horizon (observations after it are not used)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None, help="default out/bench_sbc_<target>.json")
    args = ap.parse_args()
    known = args.target == "known"
    args.replicates = args.replicates or (40 if known else 24)
    args.particles = args.particles or (500 if known else 60)
    if args.budget is None:
        args.budget = 0 if known else 1500
    args.json = args.json or Path(f"out/bench_sbc_{args.target}.json")

    if known:
        names = [f"theta{j:02d}" + (" (uninformed)" if j >= 40 else "") for j in range(56)]
        run = lambda r: known_replicate(r, args)  # noqa: E731
        print(f"SBC on the known target: 56 parameters (40 informed, correlated, with a ridge; 16 uninformed), "
              f"{args.particles} particles, {args.replicates} replicates", flush=True)
    else:
        from emigre.calibrate import Objective, default_space

        space = default_space()
        base = Objective.build(space, scale=args.scale, end=args.end, sim_seeds=(args.seed,))
        names = list(space.names)
        run = lambda r: simulator_replicate(r, args, space, base)  # noqa: E731
        print(f"SBC with the simulator: {len(names)} parameters, {len(base.obs_ids)} synthetic observations to "
              f"{args.end}, scale {args.scale}, budget {args.budget} (cap), {args.particles} particles, "
              f"{args.replicates} replicates, {args.workers} workers", flush=True)
    rows = []
    t0 = time.perf_counter()
    for r in range(args.replicates):
        t = time.perf_counter()
        truth, draws, info = run(r)
        lo, hi = np.quantile(draws, [0.05, 0.95], axis=0)
        covered = (lo <= truth) & (truth <= hi)
        ranks = (draws < truth).mean(0)
        rows.append({"replicate": r, "seconds": time.perf_counter() - t, **info,
                     "covered": covered.tolist(), "rank": ranks.tolist(), "truth": truth.tolist()})
        print(f"replicate {r:3d}: {rows[-1]['seconds']:7.1f} s, {info['evaluations']} evaluations, "
              f"{'decorrelated' if info['decorrelated'] else 'NOT decorrelated'}, covered {covered.mean():.0%}",
              flush=True)
    elapsed = time.perf_counter() - t0
    cov = np.array([row["covered"] for row in rows], dtype=float)  # [replicates, parameters]
    rk = np.array([row["rank"] for row in rows])
    per = cov.mean(0)
    print()
    print(f"{'parameter':40s} coverage90  mean rank")
    for j, name in enumerate(names):
        print(f"{name:40s} {per[j]:9.0%}   {rk[:, j].mean():.2f}")
    overall = float(cov.mean())
    se = math.sqrt(overall * (1 - overall) / cov.size)
    print(f"{'overall':40s} {overall:9.1%}   (+-{se:.1%} s.e.; target 85-95%)")
    lowest = int(np.argmin(per))
    print(f"lowest: {names[lowest]} {per[lowest]:.0%} (target: none below 75%; one parameter's coverage over "
          f"{len(rows)} replicates has s.e. {math.sqrt(0.09 / len(rows)):.0%})")
    hist = np.histogram(rk.ravel(), bins=5, range=(0, 1))[0]
    print(f"rank histogram (quintiles of the posterior; uniform if calibrated): {hist.tolist()}")
    print(f"time: {elapsed:.0f} s for {len(rows)} replicates ({elapsed / len(rows):.1f} s each)")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"settings": vars(args) | {"json": str(args.json)}, "parameters": names,
                                     "coverage90": overall, "coverage90_per_parameter": per.tolist(),
                                     "replicates": rows, "seconds": elapsed, "cpu_count": os.cpu_count()},
                                    indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
