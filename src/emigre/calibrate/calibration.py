"""``calibrate``: fit stage (Optuna TPE, then a compass-search polish -> MAP) then posterior stage (tempered
SMC -> equal-weight draws).

Budget (number of parameter sets evaluated; each is one simulation per seed): ``fit_share`` (default 25%; half
of it TPE, half the polish) to the fit, the rest to the posterior sampler (at least 5 x particles). The fit gives the MAP and the sampler's
starting distribution: a defensive mixture of the prior (20%) and a Gaussian around the MAP whose spread
comes from the best trials (:func:`~emigre.calibrate.fit.reference_from_fit`); the sampler tempers from there
to the posterior, with importance weights that make the result exact in the limit whatever the start
(``start="prior"`` tempers from the prior instead, as a check; it needs a much larger budget). The reported
MAP is the better of the fit's best and the best posterior particle.

Outputs in ``out``: ``posterior.parquet`` (one row per draw: every calibrated parameter by name, ``logpost``,
``loglik``, ``logprior``, ``ll.<OBS id>`` and ``pred.<OBS id>`` per used observation), ``fit.json``
(MAP, settings, evaluation counts, seconds, used/excluded/unused observations, SMC stages) and the journal
``journal.sqlite`` (every evaluation; what ``--resume`` replays from).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emigre.calibrate.executor import Evaluator
from emigre.calibrate.fit import fit_map, polish_map, reference_from_fit
from emigre.calibrate.journal import Journal
from emigre.calibrate.objective import Objective, select_observations
from emigre.calibrate.smc import tempered_smc
from emigre.calibrate.space import ParameterSpace, default_space
from emigre.errors import EmigreError

#: evaluations of the default run. 0.9 CPU s per evaluation was measured, which would give ~28 min with 2 workers,
#: but whole runs managed ~1 evaluation/s on the 2-core machine (fit stage, batching, other load): ~50-60 min;
#: see the issue note - the 30-minute target needs a faster evaluation or a smaller budget

DEFAULT_BUDGET = 3600
DEFAULT_PARTICLES = 200
DEFAULT_FIT_SHARE = 0.25
#: share of the fit stage's evaluations that polish TPE's best point by compass search (fit.polish_map)
POLISH_SHARE = 0.5
DEFAULT_OUT = Path("out/calibrate-russia-2022")
JOURNAL = "journal.sqlite"


@dataclass
class CalibrationResult:
    """What a calibration returns: the posterior sample, the fit summary (fit.json), where written."""

    posterior: object  # DataFrame
    fit: dict
    out: Path | None


def split_budget(budget: int, particles: int, fit_share: float = DEFAULT_FIT_SHARE) -> tuple[int, int]:
    """(fit trials, posterior evaluations): ``fit_share`` of the budget to the fit, but the posterior keeps at
    least ``5 x particles`` (initial cloud + two stages of two moves)."""
    if budget < 5 * particles + 1:
        raise EmigreError(f"--budget {budget} is too small for {particles} particles: at least "
                          f"{5 * particles + 1} evaluations (the posterior needs {5 * particles})")
    fit = int(round(budget * fit_share))
    fit = max(1, min(fit, budget - 5 * particles))
    return fit, budget - fit


class _Reporter:
    """Rich progress: stage, temperature, evaluations, best log-posterior."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.enabled = enabled
        self.total = total
        self.stage = "starting"
        self.beta = 0.0
        if enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(
                TextColumn("[bold]{task.fields[stage]}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("T={task.fields[beta]:.3g} run={task.fields[run]} reused={task.fields[reused]} "
                           "best logpost={task.fields[best]:.1f}"),
                TimeElapsedColumn(), console=Console(stderr=True), transient=False,
            )
            self.task = self.progress.add_task("calibrate", total=total, stage="fit", beta=0.0, run=0, reused=0,
                                               best=-math.inf)
            self.progress.start()

    def evals(self, info: dict, evaluator: Evaluator) -> None:
        if self.enabled:
            self.progress.update(self.task, completed=evaluator.requested + info["done"], stage=info["stage"],
                                 run=info["run"], reused=info["reused"], best=info["best_logpost"], beta=self.beta)

    def note(self, text: str) -> None:
        """A line that stays (also in a log file, where the live bar does not render)."""
        if self.enabled:
            self.progress.console.print(text)

    def smc(self, info: dict) -> None:
        self.beta = info["beta"]
        acc = info["acceptance"]
        self.note(f"posterior stage {info['stage']}: T={info['beta']:.4g} ESS={info['ess']:.0f} "
                  f"moves={info['moves']} acceptance={'-' if acc is None else f'{acc:.2f}'} "
                  f"evaluations={info['evaluations']} best loglik={info['best_loglik']:.1f} "
                  f"{'decorrelated' if info.get('decorrelated') else 'NOT decorrelated (' + str(info.get('stopped_by')) + ')'}"
                  + (f"; across runs R-hat max {info['rhat_max']:.3f}, {info['rhat_above']} above 1.05, "
                     f"{info['disjoint']} disjoint" if "rhat_max" in info else ""))

    def close(self) -> None:
        if self.enabled:
            self.progress.stop()


def calibrate(
    scenario: str = "russia-2022",
    *,
    budget: int = DEFAULT_BUDGET,
    workers: int = 0,
    cluster: str | None = None,
    resume: bool = False,
    out: str | Path | None = DEFAULT_OUT,
    seed: int = 0,
    exclude: Iterable[str] = (),
    scale: float = 20.0,
    end: str | None = None,
    sim_seeds: Sequence[int] | None = None,
    particles: int = DEFAULT_PARTICLES,
    fit_share: float = DEFAULT_FIT_SHARE,
    space: ParameterSpace | None = None,
    observations: Iterable | None = None,
    progress: bool | Callable[[dict], None] = True,
    max_moves: int = 100,
    final_moves: int | None = None,
    start: str = "fit",
) -> CalibrationResult:
    """Calibrate ``scenario`` on the packaged evidence (or ``observations``) minus ``exclude``.

    at most ``budget`` evaluations (``split_budget``; the sampler stops early once its particles have decorrelated, and
    ``fit.json`` ``smc.decorrelated`` is false when the cap stopped it first); ``sim_seeds`` the simulation seeds of every evaluation
    (common random numbers; default ``(seed,)``); ``out`` None keeps everything in memory (no journal)."""
    t0 = time.perf_counter()
    from emigre.ensemble.executor import parse_cluster

    parse_cluster(cluster)  # a bad --cluster fails before anything is written
    if start not in ("fit", "prior"):
        raise EmigreError(f"start must be 'fit' or 'prior', got {start!r}")
    space = space or default_space(scenario)
    sim_seeds = tuple(sim_seeds) if sim_seeds is not None else (int(seed),)
    exclude = tuple(exclude)
    fit_n, post_n = split_budget(int(budget), int(particles), fit_share)
    objective = Objective.build(space, scenario=scenario, observations=observations, exclude=exclude,
                                sim_seeds=sim_seeds, scale=scale, end=end)
    _, excluded, not_used = select_observations(observations, scenario=scenario, end=end, exclude=exclude)
    unknown = sorted(set(exclude) - {o.id for o in (observations or _packaged())})
    out_dir = Path(out) if out is not None else None
    journal = open_journal(out_dir, resume, objective)
    workers = int(workers) if workers else (os.cpu_count() or 1)
    rep = _Reporter(int(budget), progress is True)
    cb = progress if callable(progress) else None
    evaluator = Evaluator(objective, journal, workers=workers, cluster=cluster, progress=lambda i: rep.evals(i, evaluator))
    rng = np.random.default_rng(seed)
    try:
        tpe_n = fit_n - int(round(fit_n * POLISH_SHARE))
        if fit_n - tpe_n < 2 * space.dim + 1:  # too few for one polish iteration: all to TPE
            tpe_n = fit_n
        fit = fit_map(space, evaluator, trials=tpe_n, seed=int(rng.integers(2**31)),
                      progress=(lambda i: cb({"stage": "fit", **i})) if cb else None)
        fit = polish_map(space, evaluator, fit, evaluations=fit_n - tpe_n,
                         progress=(lambda i: cb({"stage": "polish", **i})) if cb else None)
        post_n += fit_n - fit.trials - fit.polish_evaluations  # what the polish left goes to the posterior
        fit_seconds = time.perf_counter() - t0
        rep.note(f"fit: {fit.trials} TPE trials (best logpost {fit.tpe_logpost:.1f}, defaults "
                 f"{fit.default_logpost:.1f}) + {fit.polish_evaluations} compass-search evaluations: best "
                 f"logpost {fit.logpost:.1f}, {fit_seconds:.0f} s")

        loglik, on_stage = sampler_hooks(space, evaluator, rep, cb, "smc")
        log_q, sample_q, ref_info = reference_from_fit(space, fit) if start == "fit" else (None, None, None)
        smc = tempered_smc(
            lambda U: space.log_prior_u(np.atleast_2d(U)),
            lambda r, n: space.to_u(space.sample(r, n)),
            loglik, n=int(particles), rng=rng, budget=post_n, progress=on_stage,
            max_moves=max_moves, final_moves=final_moves,
            reference=(log_q, sample_q) if log_q is not None else None,
        )
    finally:
        evaluator.close()
        rep.close()
    seconds = time.perf_counter() - t0
    post = _posterior_frame(space, objective, smc)
    # MAP: the better of the fit's best and the best posterior particle
    i_best = int(np.argmax(post["logpost"].to_numpy()))
    smc_best = float(post["logpost"].iloc[i_best])
    if smc_best > fit.logpost:
        map_x, map_lp, map_ll, map_from = space.from_u(smc.U[i_best]), smc_best, float(post["loglik"].iloc[i_best]), "smc"
    else:
        map_x, map_lp, map_ll, map_from = fit.x, fit.logpost, fit.loglik, "fit"
    info = {
        "scenario": scenario,
        "map": {"params": space.as_dict(map_x), "logpost": map_lp, "loglik": map_ll, "from": map_from,
                "fit_best_logpost": fit.logpost, "tpe_best_logpost": fit.tpe_logpost,
                "polish_evaluations": fit.polish_evaluations, "smc_best_logpost": smc_best},
        "default": {"logpost": fit.default_logpost},
        "settings": {"budget": int(budget), "fit_trials": fit.trials + fit.polish_evaluations, "tpe_trials": fit.trials,
                     "polish_evaluations": fit.polish_evaluations, "posterior_budget": post_n,
                     "particles": int(particles), "seed": int(seed), "sim_seeds": list(sim_seeds),
                     "scale": float(scale), "end": end, "workers": workers, "fit_share": fit_share,
                     "calibrated": space.names},
        "priors": priors_info(space),
        "evaluations": evaluations_info(evaluator, journal, seconds),
        "seconds": seconds,
        "fit_seconds": fit_seconds,
        "smc": {"stages": smc.stages, "log_evidence": smc.log_evidence, "complete": smc.complete,
                "decorrelated": smc.converged,
                "evaluations": smc.evaluations, "start": start, "reference": ref_info},
        "observations": {"used": list(objective.obs_ids), "excluded": list(excluded),
                         "excluded_unknown": unknown,
                         "not_used": not_used[~not_used["id"].isin(excluded)].to_dict("records")},
    }
    return finish(post, info, journal, evaluator, out_dir)


def sampler_hooks(space: ParameterSpace, evaluator: Evaluator, rep: _Reporter, cb, name: str):
    """The sampler's ``loglik(U, stage) -> (log-likelihoods, evaluations)`` through ``evaluator``, and its
    per-stage callback (the progress line, then ``cb`` with ``stage`` = ``name``)."""

    def loglik(U, stage):
        evs = evaluator(space.from_u(U), stage)
        return np.array([e.loglik for e in evs]), evs

    def on_stage(info):
        rep.smc(info)
        if cb:
            cb({"stage": name, **info})

    return loglik, on_stage


def open_journal(out_dir: Path | None, resume: bool, objective: Objective) -> Journal | None:
    """The journal in ``out_dir`` (none without one): a fresh one, or with ``resume`` the one there (an error
    when there is none), stamped with the objective's fingerprint."""
    if out_dir is None:
        return None
    out_dir.mkdir(parents=True, exist_ok=True)
    jp = out_dir / JOURNAL
    if resume and not jp.exists():
        raise EmigreError(f"{jp}: no journal to resume from (run without --resume first)")
    journal = Journal(jp, fresh=not resume)
    journal.set_meta("fingerprint", objective.fingerprint)
    return journal


def priors_info(space: ParameterSpace) -> list[dict]:
    """The priors as fit.json lists them."""
    return [{"name": p.name, "kind": p.kind, "dist": p.dist, "args": list(p.args), "default": p.default}
            for p in space.priors]


def evaluations_info(evaluator: Evaluator, journal: Journal | None, seconds: float) -> dict:
    """fit.json's ``evaluations``: requested, run, reused, journal rows, sessions, per second, CPU seconds."""
    return {
        "requested": evaluator.requested, "run": evaluator.run, "reused": evaluator.reused,
        "journal_rows": journal.count() if journal else None,
        "sessions": journal.sessions() if journal else [],
        "per_second": evaluator.run / seconds if seconds > 0 else None,
        "cpu_seconds": float(sum(e.cpu for e in evaluator.cpu_log)),
    }


def finish(post, info: dict, journal: Journal | None, evaluator: Evaluator, out_dir: Path | None) -> CalibrationResult:
    """Close the journal (recording the session) and write ``posterior.parquet`` and ``fit.json`` to ``out_dir``."""
    if journal is not None:
        journal.finish(f"requested={evaluator.requested} run={evaluator.run} reused={evaluator.reused}")
        info["evaluations"]["sessions"] = journal.sessions()
        journal.close()
    if out_dir is not None:
        write_outputs(post, info, out_dir)
    return CalibrationResult(post, info, out_dir)


def write_outputs(post, info: dict, out_dir: Path) -> None:
    """``posterior.parquet`` and ``fit.json`` in ``out_dir``, each written atomically."""
    from emigre.ensemble.run import write_parquet
    from emigre.fileio import atomic_write_text

    write_parquet(post, out_dir / "posterior.parquet")
    atomic_write_text(out_dir / "fit.json", json.dumps(_jsonable(info), indent=2) + "\n")


def _packaged():
    from emigre.evidence import load_evidence

    return load_evidence().observations


def _jsonable(v):
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return v


def _posterior_frame(space: ParameterSpace, objective: Objective, smc):
    import pandas as pd

    X = space.from_u(smc.U)
    cols: dict[str, np.ndarray] = {"draw": np.arange(len(X))}
    for j, n in enumerate(space.names):
        cols[n] = X[:, j]
    evs = smc.payload
    cols["logprior"] = np.array([e.logprior for e in evs])
    cols["loglik"] = np.array([e.loglik for e in evs])
    cols["logpost"] = cols["logprior"] + cols["loglik"]
    for k, oid in enumerate(objective.obs_ids):
        cols[f"ll.{oid}"] = np.array([e.ll[k] for e in evs])
    for k, oid in enumerate(objective.obs_ids):
        cols[f"pred.{oid}"] = np.array([e.pred[k] for e in evs])
    return pd.DataFrame(cols)


# ---------------------------------------------------------------------- several independent runs
def run_seed(seed: int, run: int) -> int:
    """The algorithm seed of run ``run`` of a ``--runs`` calibration with ``--seed seed`` (independent streams
    by NumPy's SeedSequence; the simulations keep ``seed``, so every run samples the same posterior)."""
    return int(np.random.SeedSequence([int(seed), int(run)]).generate_state(1, dtype=np.uint32)[0])


def calibrate_runs(scenario: str = "russia-2022", *, runs: int = 2, seed: int = 0,
                   out: str | Path | None = DEFAULT_OUT, sim_seeds: Sequence[int] | None = None,
                   **kwargs) -> CalibrationResult:
    """``runs`` independent calibrations (algorithm seeds :func:`run_seed`, the same simulation seeds), each in
    ``out/run-<k>`` (its own journal: ``resume`` continues each), combined into ``out/posterior.parquet``
    with a ``run`` column and ``out/fit.json`` with the diagnostics across runs (``convergence``:
    :func:`emigre.calibrate.diagnostics.convergence` over every parameter and every ``pred.*`` column) and
    what to raise when they fail (``advice``). ``budget`` and ``particles`` are per run."""
    if runs < 1:
        raise EmigreError(f"--runs must be >= 1, got {runs}")
    sim_seeds = tuple(sim_seeds) if sim_seeds is not None else (int(seed),)
    out_dir = Path(out) if out is not None else None
    results = []
    for k in range(runs):
        sub = out_dir / f"run-{k}" if out_dir is not None else None
        results.append(calibrate(scenario, seed=run_seed(seed, k), sim_seeds=sim_seeds, out=sub, **kwargs))
    return combine_runs(results, seed=seed, sim_seeds=sim_seeds, out=out_dir)


def combine_runs(results: Sequence[CalibrationResult], *, seed: int, sim_seeds: Sequence[int],
                 out: Path | None) -> CalibrationResult:
    """The runs' posteriors in one table with a ``run`` column and the fit of the best run with the diagnostics
    across runs (``convergence``) and what to raise when they fail (``advice``), written to ``out``."""
    import pandas as pd

    from emigre.calibrate.diagnostics import convergence

    runs = len(results)
    frames = []
    for k, r in enumerate(results):
        f = r.posterior.copy()
        f.insert(0, "run", k)
        frames.append(f)
    post = pd.concat(frames, ignore_index=True)
    post["draw"] = np.arange(len(post))
    names = results[0].fit["settings"]["calibrated"]
    preds = [c for c in post.columns if c.startswith("pred.")]
    conv = convergence(post, list(names) + preds)
    undecorrelated = [k for k, r in enumerate(results) if not r.fit["smc"]["decorrelated"]]
    incomplete = [k for k, r in enumerate(results) if not r.fit["smc"]["complete"]]
    if conv["converged"]:
        advice = None
    elif undecorrelated or incomplete:
        advice = (f"raise --budget: the sampler of run(s) {sorted(set(undecorrelated + incomplete))} stopped "
                  "before its particles decorrelated")
    elif runs < 2:
        advice = "use --runs 2 or more: one run cannot show convergence"
    else:
        advice = ("raise --particles: every run decorrelated, yet the runs disagree (too few particles to carry "
                  "the posterior's shape through the tempering)")
    best = max(range(runs), key=lambda k: results[k].fit["map"]["logpost"])
    info = dict(results[best].fit)
    info["settings"] = dict(info["settings"], seed=int(seed), runs=runs, sim_seeds=list(sim_seeds))
    info["runs"] = [{"run": k, "seed": r.fit["settings"]["seed"], "out": str(r.out) if r.out else None,
                     "map_logpost": r.fit["map"]["logpost"], "log_evidence": r.fit["smc"]["log_evidence"],
                     "complete": r.fit["smc"]["complete"], "decorrelated": r.fit["smc"]["decorrelated"],
                     "evaluations": r.fit["evaluations"], "seconds": r.fit["seconds"]}
                    for k, r in enumerate(results)]
    info["map"] = dict(info["map"], run=best)
    info["seconds"] = float(sum(r.fit["seconds"] for r in results))
    info["evaluations"] = dict(info["evaluations"], **{k: int(sum(r.fit["evaluations"][k] for r in results))
                                                       for k in ("requested", "run", "reused")})
    info["convergence"] = conv
    info["advice"] = advice
    if out is not None:
        write_outputs(post, info, out)
    return CalibrationResult(post, info, out)
