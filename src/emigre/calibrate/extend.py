"""``emigre calibrate --extend POSTERIOR``: more moves at the posterior for the runs of an earlier calibration.

A calibration whose runs completed their tempering but did not decorrelate (``fit.json``: ``smc.decorrelated``
false, R-hat above 1.05) has spent most of its budget on the way to the posterior (the tempering stages) and
little at it. Extending it starts from where its runs stopped - their equal-weight particles, read from the
``posterior.parquet`` with its ``run`` column - and spends a new budget on Metropolis-Hastings moves at the
posterior (:func:`emigre.calibrate.smc.extend_smc`: the sampler's kernels, refitted per stage, each stage run
until the cloud has decorrelated, again and again until the budget is spent).

Every particle keeps its run: a particle moves only to a state it proposed and accepted, so the rows of run
``k`` stay run ``k``'s. The proposals, though, are fitted to the **pooled** cloud of all runs (the random walk's
covariance and the independence mixture): each run's particles are then proposed states where the other runs
found posterior mass, and the Metropolis-Hastings test accepts them in proportion to the posterior alone. This
is what removes a run's offset: measured on the known 56-dimensional target (``tests``), four runs of 100
particles each shifted by a posterior sd in a fifth of the coordinates (R-hat 1.37) reach R-hat 1.03 after 9
moves when the proposals are pooled, while a run extended on its own proposals (fitted to its shifted cloud)
kept its offset (0.9 sd after 49 moves). The kernel for one particle depends on the others' states at the
stage's start, as in every population Monte Carlo (and in the tempering stages, whose proposals are fitted to
the whole cloud): given them it leaves the posterior invariant. What R-hat then checks is that the runs, started
apart, now agree; no longer that they found it without each other's help.

The output: ``posterior.parquet`` with the ``run`` column, ``fit.json`` with the diagnostics across runs and
the stages, ``journal.sqlite`` (``--resume`` continues a killed extension). It can itself be extended again.

The particles are evaluated anew by the current objective (the evidence, the operators, ``--scale``): an
extension after a model change is still a valid MCMC for the new posterior, only a longer one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

from emigre.calibrate.calibration import (
    CalibrationResult,
    _posterior_frame,
    _Reporter,
    evaluations_info,
    finish,
    open_journal,
    priors_info,
    sampler_hooks,
)
from emigre.calibrate.executor import Evaluator
from emigre.calibrate.objective import Objective, select_observations
from emigre.calibrate.smc import extend_smc
from emigre.calibrate.space import ParameterSpace, default_space
from emigre.errors import EmigreError


def extend_seed(seed: int) -> int:
    """The algorithm seed of an extension with ``--seed seed`` (a stream of its own, apart from the
    calibration's :func:`~emigre.calibrate.calibration.run_seed`)."""
    return int(np.random.SeedSequence([int(seed), 2022, 1]).generate_state(1, dtype=np.uint32)[0])


def draw_missing_seed(seed: int) -> int:
    """The seed of the prior draws that fill the parameters a starting posterior lacks (``--draw-missing``)."""
    return int(np.random.SeedSequence([int(seed), 2022, 2]).generate_state(1, dtype=np.uint32)[0])


def starting_particles(posterior, space: ParameterSpace, source: str, *,
                       fill: np.random.Generator | None = None) -> list[np.ndarray]:
    """Each run's particles [n, d] on the unconstrained space, in the order of ``space``; one clear error when
    the table lacks a calibrated parameter (unless ``fill``: then each particle draws it from its prior, with
    this generator - a parameter added to the model since the posterior was made) or a value lies outside
    its prior's support."""
    missing = [n for n in space.names if n not in posterior.columns]
    if missing and fill is None:
        raise EmigreError(f"{source}: the posterior lacks {len(missing)} calibrated parameter(s): "
                          f"{', '.join(missing[:8])}{' ...' if len(missing) > 8 else ''} - it comes from another "
                          "model; calibrate anew, or --draw-missing to start those from their priors")
    if missing:
        posterior = posterior.copy()
        for name in missing:  # in the space's order, so the draws do not depend on the table's columns
            posterior[name] = space.priors[space.names.index(name)].sample(fill, len(posterior))
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
    draw_missing: bool = False,
) -> CalibrationResult:
    """Extend the runs of ``posterior`` (a ``posterior.parquet`` or its folder) by at most ``budget`` evaluations
    per run (module doc), into ``out``; ``stages`` stops after that many decorrelated stages. ``draw_missing``:
    calibrated parameters the posterior lacks start from prior draws (seeded by ``seed``)."""
    import os

    from emigre.calibrate.diagnostics import convergence
    from emigre.calibrate.posterior import load_posterior
    from emigre.ensemble.executor import parse_cluster

    t0 = time.perf_counter()
    parse_cluster(cluster)
    space = space or default_space(scenario)
    src = str(posterior)
    start_table = load_posterior(posterior)
    drawn = [n for n in space.names if n not in start_table.columns] if draw_missing else []
    fill = np.random.default_rng(draw_missing_seed(seed)) if draw_missing else None
    starts = starting_particles(start_table, space, src, fill=fill)
    K = len(starts)
    n = sum(len(u) for u in starts)
    total = int(budget) * K
    if total < 2 * n:
        raise EmigreError(f"--budget {budget} is too small to extend runs of {n // K} particles: at least "
                          f"{2 * n // K} evaluations per run (their evaluation and one move)")
    sim_seeds = tuple(sim_seeds) if sim_seeds is not None else (int(seed),)
    exclude = tuple(exclude)
    objective = Objective.build(space, scenario=scenario, observations=observations, exclude=exclude,
                                sim_seeds=sim_seeds, scale=scale, end=end)
    _, excluded, not_used = select_observations(observations, scenario=scenario, end=end, exclude=exclude)
    out_dir = Path(out) if out is not None else None
    journal = open_journal(out_dir, resume, objective)
    workers = int(workers) if workers else (os.cpu_count() or 1)
    rep = _Reporter(total, progress is True)
    cb = progress if callable(progress) else None
    evaluator = Evaluator(objective, journal, workers=workers, cluster=cluster,
                          progress=lambda i: rep.evals(dict(i, run="all"), evaluator))
    algo_seed = extend_seed(seed)

    loglik, on_stage = sampler_hooks(space, evaluator, rep, cb, "extend")
    try:
        rep.note(f"extending {K} run(s) of {n // K} particles from {src}: up to {total} evaluations")
        if drawn:
            rep.note(f"{len(drawn)} parameter(s) not in {src} start from their priors: {', '.join(drawn)}")
        smc = extend_smc(np.vstack(starts), lambda U: space.log_prior_u(np.atleast_2d(U)), loglik,
                         rng=np.random.default_rng(algo_seed), budget=total, stages=stages, progress=on_stage,
                         groups=np.repeat(np.arange(K), [len(u) for u in starts]))
    finally:
        evaluator.close()
        rep.close()
    seconds = time.perf_counter() - t0
    post = _posterior_frame(space, objective, smc)
    post.insert(0, "run", np.repeat(np.arange(K), [len(u) for u in starts]))
    preds = [c for c in post.columns if c.startswith("pred.")]
    conv = convergence(post, list(space.names) + preds)
    if conv["converged"]:
        advice = None
    elif not smc.converged:
        advice = "raise --budget: no stage of moves ran until the particles had decorrelated"
    elif K < 2:
        advice = "one run cannot show convergence: extend a calibration of --runs 2 or more"
    else:
        advice = (f"extend again (emigre calibrate --extend {out_dir or 'DIR'} --out NEW) or raise --budget: "
                  "the particles decorrelated, yet the runs still disagree")
    i_best = int(np.argmax(post["logpost"].to_numpy()))
    info = {
        "scenario": scenario,
        "extended_from": src,
        "map": {"params": space.as_dict(space.from_u(smc.U[i_best])), "logpost": float(post["logpost"].iloc[i_best]),
                "loglik": float(post["loglik"].iloc[i_best]), "from": "extend", "run": int(post["run"].iloc[i_best])},
        "settings": {"budget": int(budget), "particles": n // K, "runs": K, "seed": int(seed), "algorithm_seed": algo_seed,
                     "sim_seeds": list(sim_seeds), "scale": float(scale), "end": end, "workers": workers,
                     "stages": stages, "calibrated": space.names, "drawn_from_prior": drawn},
        "priors": priors_info(space),
        "evaluations": evaluations_info(evaluator, journal, seconds),
        "seconds": seconds,
        "smc": {"stages": smc.stages, "log_evidence": None, "complete": True, "decorrelated": smc.converged,
                "evaluations": smc.evaluations, "start": "extend"},
        "observations": {"used": list(objective.obs_ids), "excluded": list(excluded), "excluded_unknown": [],
                         "not_used": not_used[~not_used["id"].isin(excluded)].to_dict("records")},
        "runs": [{"run": k, "particles": len(u),
                  "mean_loglik": float(post.loc[post["run"] == k, "loglik"].mean())} for k, u in enumerate(starts)],
        "convergence": conv,
        "advice": advice,
    }
    return finish(post, info, journal, evaluator, out_dir)
