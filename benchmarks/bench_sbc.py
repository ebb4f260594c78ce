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
def synthetic_observations(objective, x_true, truth_seed: int, rng: np.random.Generator,
                           truth_scale: float | None = None):
    """The objective's observations with values generated at ``x_true`` (simulated with ``truth_seed`` at
    ``truth_scale`` persons per traveller, default the objective's scale) plus an error drawn from each one's
    likelihood."""
    from emigre.calibrate.objective import _simulate_capped

    sp, s = objective.space, objective.spec
    params, _ = sp.split(x_true)
    result = _simulate_capped(s.scenario, truth_seed, params, s.scale if truth_scale is None else truth_scale, s.end,
                              None)
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
    obs = synthetic_observations(base, x_true, truth_seed=10_000 + r, rng=rng, truth_scale=args.truth_scale)
    # one worker inside a replicate: the replicates are what runs in parallel (and a calibration's result does
    # not depend on its worker count: the evaluator returns every batch in input order)
    res = calibrate(space=space, observations=obs, budget=args.budget, particles=args.particles,
                    workers=1, scale=args.scale, end=args.end, seed=args.seed + r,
                    sim_seeds=(args.seed,), out=None, progress=False)
    draws = res.posterior[space.names].to_numpy()
    smc = res.fit["smc"]
    return x_true, draws, {"evaluations": res.fit["evaluations"]["requested"], "decorrelated": smc["decorrelated"],
                           "complete": smc["complete"], "stages": len(smc["stages"])}


# ---------------------------------------------------------------------- one replicate, in a worker process
#: settings that change a replicate's result: a journal written with other values is not resumed
RESULT_SETTINGS = ("target", "budget", "particles", "scale", "truth_scale", "end", "seed")
_WORKER_CACHE: dict = {}


def _simulator_base(args):
    """The parameter space and the objective on the real observations (whose shape the synthetic ones take),
    built once per worker process for the settings at hand."""
    key = (args.scale, args.end, args.seed)
    if key not in _WORKER_CACHE:
        from emigre.calibrate import Objective, default_space

        space = default_space()
        _WORKER_CACHE.clear()
        _WORKER_CACHE[key] = (space, Objective.build(space, scale=args.scale, end=args.end, sim_seeds=(args.seed,)))
    return _WORKER_CACHE[key]


def replicate_task(r: int, settings: dict) -> dict:
    """Replicate ``r``: the truth, whether each parameter's 90% interval covers it, its rank among the draws.
    Everything random comes from (seed, r), so the result is the same on any worker."""
    args = argparse.Namespace(**settings)
    t = time.perf_counter()
    c = time.process_time()
    if args.target == "known":
        truth, draws, info = known_replicate(r, args)
    else:
        space, base = _simulator_base(args)
        truth, draws, info = simulator_replicate(r, args, space, base)
    lo, hi = np.quantile(draws, [0.05, 0.95], axis=0)
    covered = (lo <= truth) & (truth <= hi)
    ranks = (draws < truth).mean(0)
    return {"replicate": r, "seconds": time.perf_counter() - t, "cpu_seconds": time.process_time() - c, **info,
            "covered": covered.tolist(), "rank": ranks.tolist(), "truth": truth.tolist()}


def code_digest() -> str:
    """SHA-256 over the installed package's source and data files: a journal written by other code (another
    model, other priors) is not resumed."""
    import hashlib

    import emigre

    root = Path(emigre.__file__).resolve().parent
    h = hashlib.sha256()
    for f in sorted(root.rglob("*")):
        if f.is_file() and f.suffix in {".py", ".yaml", ".csv", ".parquet"} and "__pycache__" not in f.parts:
            h.update(str(f.relative_to(root)).encode())
            h.update(f.read_bytes())
    return h.hexdigest()[:16]


def _journal_path(json_path: Path) -> Path:
    return json_path.with_name(json_path.name + ".replicates.jsonl")


def read_journal(path: Path, settings: dict) -> dict[int, dict]:
    """The replicates a previous run of the same settings finished (one JSON line each after a header line
    with the settings); an unreadable last line (a run killed mid-write) is dropped."""
    if not path.exists():
        return {}
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines:
        return {}
    try:
        head = json.loads(lines[0])
    except json.JSONDecodeError:
        raise SystemExit(f"{path}: line 1 is not the JSON header of an SBC journal; remove the file") from None
    want = {k: settings[k] for k in (*RESULT_SETTINGS, "code")}
    have = {k: head.get("settings", {}).get(k) for k in (*RESULT_SETTINGS, "code")}
    if have != want:
        diff = ", ".join(f"{k} {have[k]!r} (journal) vs {want[k]!r}" for k in want if have[k] != want[k])
        raise SystemExit(f"{path}: written with other settings ({diff}); use those, or another --json, "
                         "or remove the journal")
    done: dict[int, dict] = {}
    for n, line in enumerate(lines[1:], 2):
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            if n == len(lines):
                break  # the last line of a run killed mid-write
            raise SystemExit(f"{path}: line {n} is not JSON; remove the file") from None
        done[int(row["replicate"])] = row
    return done


def summarise(rows: list[dict], names: list[str], elapsed: float) -> dict:
    """Print coverage per parameter and overall, the rank histogram and the time; return them."""
    rows = sorted(rows, key=lambda r: r["replicate"])
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
    below = [names[j] for j in np.flatnonzero(per < 0.75)]
    print(f"lowest: {names[lowest]} {per[lowest]:.0%}; below 75%: {len(below)} of {len(names)} (target: none; one "
          f"parameter's coverage over {len(rows)} replicates has s.e. {math.sqrt(0.09 / len(rows)):.0%})")
    hist = np.histogram(rk.ravel(), bins=5, range=(0, 1))[0]
    print(f"rank histogram (quintiles of the posterior; uniform if calibrated): {hist.tolist()}")
    dec = sum(bool(r.get("decorrelated")) for r in rows)
    evals = [r["evaluations"] for r in rows]
    cpu = sum(r.get("cpu_seconds", r["seconds"]) for r in rows)
    print(f"replicates decorrelated: {dec} of {len(rows)}; evaluations per replicate median {np.median(evals):.0f}")
    print(f"time: {elapsed:.0f} s wall this run, {cpu:.0f} CPU s in all replicates ({cpu / len(rows):.1f} each)")
    return {"coverage90": overall, "coverage90_se": se, "coverage90_per_parameter": per.tolist(),
            "below_75": below, "rank_histogram": hist.tolist(), "decorrelated": dec, "cpu_seconds": cpu}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", choices=["known", "simulator"], default="simulator")
    ap.add_argument("--replicates", type=int, default=None, help="default: 40 (known), 24 (simulator)")
    ap.add_argument("--budget", type=int, default=None,
                    help="evaluations per calibration, a cap (default: none for known, 1500 for simulator)")
    ap.add_argument("--particles", type=int, default=None, help="default: 500 (known), 60 (simulator)")
    ap.add_argument("--workers", type=int, default=1, help="replicates run at once (local worker processes)")
    ap.add_argument("--cluster", default=None,
                    help="run the replicates on a Dask cluster: tcp://HOST:PORT or local:N (default $EMIGRE_CLUSTER)")
    ap.add_argument("--scale", type=float, default=500.0)
    ap.add_argument("--truth-scale", type=float, default=None,
                    help="persons per traveller of the truth's simulation (default: --scale / 10). Published figures "
                         "carry no simulation noise; the likelihood allows for the calibration's own, so a truth "
                         "simulated as coarsely as the calibration carries that noise twice and reads as a larger "
                         "observation error (error_scale_factor's truth at rank 0.00 when it was --scale)")
    ap.add_argument("--end", default="2022-10-31", help="simulated horizon (observations after it are not used)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None, help="default out/bench_sbc_<target>.json")
    ap.add_argument("--resume", action="store_true",
                    help="keep the replicates a run of the same settings finished (the journal next to --json)")
    args = ap.parse_args()
    known = args.target == "known"
    args.replicates = args.replicates or (40 if known else 24)
    args.particles = args.particles or (500 if known else 60)
    if args.budget is None:
        args.budget = 0 if known else 1500
    if args.truth_scale is None:
        args.truth_scale = args.scale / 10
    if not (args.scale > 0 and args.truth_scale > 0):
        ap.error(f"--scale and --truth-scale are persons per traveller: positive numbers, not {args.scale} and "
                 f"{args.truth_scale}")
    args.json = args.json or Path(f"out/bench_sbc_{args.target}.json")

    from emigre.ensemble.executor import open_executor, run_many
    from emigre.fileio import atomic_write_text

    if known:
        names = [f"theta{j:02d}" + (" (uninformed)" if j >= 40 else "") for j in range(56)]
        print(f"SBC on the known target: 56 parameters (40 informed, correlated, with a ridge; 16 uninformed), "
              f"{args.particles} particles, {args.replicates} replicates", flush=True)
    else:
        from emigre.calibrate import Objective, default_space

        space = default_space()
        base = Objective.build(space, scale=args.scale, end=args.end, sim_seeds=(args.seed,))
        names = list(space.names)
        print(f"SBC with the simulator: {len(names)} parameters, {len(base.obs_ids)} synthetic observations to "
              f"{args.end}, scale {args.scale} (truth {args.truth_scale}), budget {args.budget} (cap), "
              f"{args.particles} particles, "
              f"{args.replicates} replicates", flush=True)
    if args.particles < 4.5 * len(names):
        # measured on the known model in 89 dimensions, every replicate decorrelated (docs/calibrate.md)
        print(f"note: {args.particles} particles for {len(names)} parameters: with fewer than ~4.5 per parameter the "
              "intervals under-cover even when the sampler decorrelates (89 parameters: 200 particles 86%, 400 90%)",
              flush=True)
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()} | {"code": code_digest()}
    journal = _journal_path(args.json)
    journal.parent.mkdir(parents=True, exist_ok=True)
    done = read_journal(journal, settings) if args.resume else {}
    if not args.resume or not journal.exists() or journal.stat().st_size == 0:  # a new journal: its header first
        atomic_write_text(journal, json.dumps({"settings": settings, "parameters": names}) + "\n")
    todo = [r for r in range(args.replicates) if r not in done]
    if done:
        print(f"resumed: {len(done)} replicates from {journal}, {len(todo)} to run", flush=True)
    t0 = time.perf_counter()

    def keep(_i: int, row: dict) -> None:
        with journal.open("a", encoding="utf-8") as fh:  # one line per finished replicate, flushed to disk
            fh.write(json.dumps(row) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        done[row["replicate"]] = row
        print(f"replicate {row['replicate']:3d}: {row['seconds']:7.1f} s, {row['evaluations']} evaluations, "
              f"{'decorrelated' if row['decorrelated'] else 'NOT decorrelated'}, covered "
              f"{np.mean(row['covered']):.0%}  ({len(done)} of {args.replicates})", flush=True)

    with open_executor(args.workers, args.cluster) as ex:
        if todo:
            print(f"on {ex.describe()}", flush=True)
        run_many(replicate_task, [(r, settings) for r in todo], executor=ex, on_result=keep)
    elapsed = time.perf_counter() - t0
    rows = [done[r] for r in range(args.replicates)]
    summary = summarise(rows, names, elapsed)
    atomic_write_text(args.json, json.dumps({"settings": settings, "parameters": names, **summary,
                                             "replicates": rows, "seconds": elapsed, "cpu_count": os.cpu_count()},
                                            indent=2) + "\n")
    print(f"wrote {args.json} (replicates: {journal})")


if __name__ == "__main__":
    main()
