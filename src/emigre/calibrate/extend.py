"""``emigre calibrate --extend POSTERIOR``: more moves at the posterior for the runs of an earlier calibration.

A calibration whose runs completed their tempering but did not decorrelate (``fit.json``: ``smc.decorrelated``
false, R-hat above 1.05) has spent most of its budget on the way to the posterior (the tempering stages) and
little at it. Extending it starts each run where it stopped - its equal-weight particles, read from the
``posterior.parquet`` with its ``run`` column - and spends a new budget on Metropolis-Hastings moves at the
posterior (:func:`emigre.calibrate.smc.extend_smc`: the same kernels, refitted per stage, run until the cloud has
decorrelated, again and again). The moves leave the posterior invariant, so wherever a run started it can only
come closer; the runs stay independent (each its own seed, its own particles), so R-hat across them still says
whether they sample one distribution. The output has the layout of ``--runs K`` (``run-<k>/`` with a journal
each, so ``--resume`` continues a killed extension; ``posterior.parquet`` with the ``run`` column; ``fit.json``
with the diagnostics) and can itself be extended again.

The particles are evaluated anew by the current objective (the evidence, the operators, ``--scale``): an
extension after a model change is still a valid MCMC for the new posterior, only a longer one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from emigre.calibrate.calibration import (
    JOURNAL,
    CalibrationResult,
    _jsonable,
    _posterior_frame,
    _Reporter,
    combine_runs,
)
from emigre.calibrate.executor import Evaluator
from emigre.calibrate.journal import Journal
from emigre.calibrate.objective import Objective, select_observations
from emigre.calibrate.smc import extend_smc
from emigre.calibrate.space import ParameterSpace, default_space
from emigre.errors import EmigreError


def extend_seed(seed: int, run: int) -> int:
    """The algorithm seed of run ``run`` of an extension with ``--seed seed`` (a stream of its own, apart from
    the calibration's :func:`~emigre.calibrate.calibration.run_seed`)."""
    return int(np.random.SeedSequence([int(seed), int(run), 1]).generate_state(1, dtype=np.uint32)[0])


def starting_particles(posterior, space: ParameterSpace, source: str) -> list[np.ndarray]:
    """Each run's particles [n, d] on the unconstrained space, in the order of ``space``; one clear error when
    the table lacks a calibrated parameter or a value lies outside its prior's support."""
    missing = [n for n in space.names if n not in posterior.columns]
    if missing:
        raise EmigreError(f"{source}: the posterior lacks {len(missing)} calibrated parameter(s): "
                          f"{', '.join(missing[:8])}{' ...' if len(missing) > 8 else ''} - it comes from another "
                          "model; calibrate anew instead of extending it")
    runs = sorted(int(r) for r in posterior["run"].unique()) if "run" in posterior.columns else [0]
    out = []
    for k in runs:
        rows = posterior[posterior["run"] == k] if "run" in posterior.columns else posterior
        X = rows[space.names].to_numpy(dtype=np.float64)
        lp = space.log_prior(X)
        bad = np.flatnonzero(~np.isfinite(lp))
        if len(bad):
            r = int(rows.index[bad[0]])
            raise EmigreError(f"{source}: row {r} (run {k}) lies outside the prior's support "
                              f"({len(bad)} row(s) in all); the posterior does not belong to this scenario's priors")
        if len(rows) < 4:
            raise EmigreError(f"{source}: run {k} has {len(rows)} draw(s); extending needs at least 4 per run")
        out.append(space.to_u(X))
    return out


def extend(
    posterior: str | Path,
    scenario: str = "russia-2022",
    *,
    budget: int,
    workers: int = 0,
    cluster: str | None = None,
    resume: bool = False,
    out: str | Path | None,
    seed: int = 0,
    exclude: Iterable[str] = (),
    scale: float = 20.0,
    end: str | None = None,
    sim_seeds: Sequence[int] | None = None,
    stages: int | None = None,
    observations: Iterable | None = None,
    space: ParameterSpace | None = None,
    progress: bool | Callable[[dict], None] = True,
) -> CalibrationResult:
    """Extend every run of ``posterior`` (a ``posterior.parquet`` or its folder) by at most ``budget``
    evaluations each (module doc), into ``out`` (``run-<k>/`` per run, then the combined table and fit)."""
    from emigre.calibrate.posterior import load_posterior
    from emigre.ensemble.executor import parse_cluster

    parse_cluster(cluster)
    space = space or default_space(scenario)
    src = str(posterior)
    starts = starting_particles(load_posterior(posterior), space, src)
    n_max = max(len(u) for u in starts)
    if budget < 2 * n_max:
        raise EmigreError(f"--budget {budget} is too small to extend runs of {n_max} particles: at least "
                          f"{2 * n_max} evaluations per run (their evaluation and one move)")
    sim_seeds = tuple(sim_seeds) if sim_seeds is not None else (int(seed),)
    exclude = tuple(exclude)
    objective = Objective.build(space, scenario=scenario, observations=observations, exclude=exclude,
                                sim_seeds=sim_seeds, scale=scale, end=end)
    _, excluded, not_used = select_observations(observations, scenario=scenario, end=end, exclude=exclude)
    out_dir = Path(out) if out is not None else None
    results = []
    for k, U0 in enumerate(starts):
        sub = out_dir / f"run-{k}" if out_dir is not None else None
        results.append(_extend_run(U0, k, space, objective, src, budget=budget, workers=workers, cluster=cluster,
                                   resume=resume, out=sub, seed=seed, stages=stages, progress=progress,
                                   excluded=list(excluded), not_used=not_used, scenario=scenario, scale=scale,
                                   end=end, sim_seeds=sim_seeds))
    return combine_runs(results, seed=seed, sim_seeds=sim_seeds, out=out_dir,
                        extend_hint=f"extend again: emigre calibrate --extend {out_dir or 'DIR'} --out NEW "
                        "(every run decorrelated at least once, yet the runs still disagree)")


def _extend_run(U0: np.ndarray, k: int, space: ParameterSpace, objective: Objective, src: str, *, budget: int,
                workers: int, cluster: str | None, resume: bool, out: Path | None, seed: int, stages: int | None,
                progress, excluded: list, not_used, scenario: str, scale: float, end: str | None,
                sim_seeds: Sequence[int]) -> CalibrationResult:
    import os

    t0 = time.perf_counter()
    journal = None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        jp = out / JOURNAL
        if resume and not jp.exists():
            raise EmigreError(f"{jp}: no journal to resume from (run without --resume first)")
        journal = Journal(jp, fresh=not resume)
        journal.set_meta("fingerprint", objective.fingerprint)
    workers = int(workers) if workers else (os.cpu_count() or 1)
    rep = _Reporter(int(budget), progress is True)
    cb = progress if callable(progress) else None
    evaluator = Evaluator(objective, journal, workers=workers, cluster=cluster,
                          progress=lambda i: rep.evals(dict(i, run=k), evaluator))
    algo_seed = extend_seed(seed, k)

    def loglik(U, stage):
        evs = evaluator(space.from_u(U), stage)
        return np.array([e.loglik for e in evs]), evs

    def on_stage(info):
        rep.smc(info)
        if cb:
            cb({"stage": "extend", "run": k, **info})

    try:
        rep.note(f"run {k}: extending {len(U0)} particles from {src}")
        smc = extend_smc(U0, lambda U: space.log_prior_u(np.atleast_2d(U)), loglik,
                         rng=np.random.default_rng(algo_seed), budget=int(budget), stages=stages, progress=on_stage)
    finally:
        evaluator.close()
        rep.close()
    seconds = time.perf_counter() - t0
    post = _posterior_frame(space, objective, smc)
    i_best = int(np.argmax(post["logpost"].to_numpy()))
    info = {
        "scenario": scenario,
        "extended_from": src,
        "map": {"params": space.as_dict(space.from_u(smc.U[i_best])), "logpost": float(post["logpost"].iloc[i_best]),
                "loglik": float(post["loglik"].iloc[i_best]), "from": "extend"},
        "settings": {"budget": int(budget), "particles": len(U0), "seed": algo_seed, "sim_seeds": list(sim_seeds),
                     "scale": float(scale), "end": end, "workers": workers, "stages": stages,
                     "calibrated": space.names},
        "priors": [{"name": p.name, "kind": p.kind, "dist": p.dist, "args": list(p.args), "default": p.default}
                   for p in space.priors],
        "evaluations": {
            "requested": evaluator.requested, "run": evaluator.run, "reused": evaluator.reused,
            "journal_rows": journal.count() if journal else None,
            "per_second": evaluator.run / seconds if seconds > 0 else None,
            "cpu_seconds": float(sum(e.cpu for e in evaluator.cpu_log)),
        },
        "seconds": seconds,
        "smc": {"stages": smc.stages, "log_evidence": None, "complete": True, "decorrelated": smc.converged,
                "evaluations": smc.evaluations, "start": "extend"},
        "observations": {"used": list(objective.obs_ids), "excluded": excluded, "excluded_unknown": [],
                         "not_used": not_used[~not_used["id"].isin(excluded)].to_dict("records")},
    }
    if journal is not None:
        journal.finish(f"requested={evaluator.requested} run={evaluator.run} reused={evaluator.reused}")
        info["evaluations"]["sessions"] = journal.sessions()
        journal.close()
    if out is not None:
        from emigre.ensemble.run import write_parquet
        from emigre.fileio import atomic_write_text

        write_parquet(post, out / "posterior.parquet")
        atomic_write_text(out / "fit.json", json.dumps(_jsonable(info), indent=2) + "\n")
    return CalibrationResult(post, info, out)
