"""Run one Flee 3.1 simulation of a Flee-format scenario and print the result as JSON on stdout.

This script is executed by *Flee's* interpreter (a separate virtualenv with ``flee==3.1`` installed, see
``bench_flee_peer.py``), never by emigre's: it imports only the standard library, NumPy and Flee. It builds
the simulation with Flee's own classes and runs the daily loop of Flee's validation runs:

    AddNewConflictZones(e, t) -> spawn_daily_displaced -> refresh_spawn_weights -> enact_border_closures(t)
    -> e.evolve()

Adaptations to the suite's files (Flee 3.1 predates them):
- 3.1 reads ``conflict_period.csv``; the suite has ``sim_period.csv`` with the same two rows
  (``StartDate``/``Length``), so that file is read with 3.1's own period reader.
- ``conflicts.csv`` is used as the conflict input file (as the suite runs it).
- spawning sums the camp series (``sum_from_camps: True``), which 3.1 supports as an argument.
- ``hasten`` (population scale-down) comes from the command line and overrides the YAML value.
- Flee never seeds its generators; ``--seed`` seeds ``random`` and ``numpy.random`` so a run can be repeated.

Only the day loop is timed. Agent-steps = sum over days of ``e.numAgents()`` after that day (agents alive).
Flee's own progress messages go to stderr; stdout carries exactly one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import time


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", help="scenario directory (input_csv/, source_data/)")
    ap.add_argument("--settings", required=True, help="Flee simsetting.yml")
    ap.add_argument("--hasten", type=int, default=1)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--days", type=int, default=None, help="simulate only the first N days (testing)")
    args = ap.parse_args(argv)

    real_stdout = sys.stdout
    sys.stdout = sys.stderr  # anything Flee prints stays off the JSON channel

    import numpy as np
    from flee import InputGeography, spawning
    from flee import flee as flee_mod
    from flee.datamanager import handle_refugee_data, read_period
    from flee.SimulationSettings import SimulationSettings

    if args.seed is not None:
        random.seed(args.seed)
        np.random.seed(args.seed % (2**32))

    scen = os.path.abspath(args.scenario)
    inp = os.path.join(scen, "input_csv")
    src = os.path.join(scen, "source_data")

    t_setup = time.perf_counter()
    SimulationSettings.ReadFromYML(args.settings)
    SimulationSettings.optimisations["PopulationScaleDownFactor"] = int(args.hasten)
    SimulationSettings.ConflictInputFile = os.path.join(inp, "conflicts.csv")
    start_date, length = read_period.read_conflict_period(os.path.join(inp, "sim_period.csv"))
    n_days = length if args.days is None else min(length, args.days)

    e = flee_mod.Ecosystem()
    ig = InputGeography.InputGeography()
    ig.ReadConflictInputCSV(SimulationSettings.ConflictInputFile)
    ig.ReadLocationsFromCSV(os.path.join(inp, "locations.csv"))
    ig.ReadLinksFromCSV(os.path.join(inp, "routes.csv"))
    closures = os.path.join(inp, "closures.csv")
    if os.path.exists(closures):
        ig.ReadClosuresFromCSV(closures)
    else:
        ig.closures = []
    e, lm = ig.StoreInputGeographyInEcosystem(e)

    d = handle_refugee_data.RefugeeTable(
        csvformat="generic",
        data_directory=src,
        start_date=start_date,
        data_layout="data_layout.csv",
        population_scaledown_factor=int(args.hasten),
    )
    d.ReadL1Corrections(os.path.join(inp, "registration_corrections.csv"))

    # Camps reported: the located camps of data_layout.csv (its first row is the total), in its order.
    data_camps = [name for name in d.header[1:] if name in lm]
    # Day-0 refugees go into every camp of the ecosystem that has a series (as Flee's run script does).
    for name in e.get_camp_names():
        if name in d.header:
            spawning.add_initial_refugees(e, d, lm[name])
    setup_seconds = time.perf_counter() - t_setup

    camp_counts: list[list[int]] = []
    agents_per_day: list[int] = []
    t0 = time.perf_counter()
    for t in range(n_days):
        ig.AddNewConflictZones(e, t)
        spawning.spawn_daily_displaced(e, t, d, SumFromCamps=True)
        spawning.refresh_spawn_weights(e)
        e.enact_border_closures(t)
        e.evolve()
        agents_per_day.append(e.numAgents())
        camp_counts.append([int(lm[name].numAgents) for name in data_camps])
    seconds = time.perf_counter() - t0

    try:
        from importlib.metadata import version

        flee_version = version("flee")
    except Exception:  # pragma: no cover - metadata missing
        flee_version = "unknown"
    out = {
        "flee_version": flee_version,
        "scenario": os.path.basename(scen.rstrip(os.sep)),
        "hasten": int(args.hasten),
        "seed": args.seed,
        "start_date": start_date,
        "days": n_days,
        "setup_seconds": setup_seconds,
        "seconds": seconds,
        "agent_steps": int(sum(agents_per_day)),
        "agents_final": int(agents_per_day[-1]) if agents_per_day else 0,
        "agents_per_day": agents_per_day,
        "camp_names": data_camps,
        "camp_counts": camp_counts,
        "max_rss_kb": int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss),
    }
    real_stdout.write(json.dumps(out))
    real_stdout.write("\n")
    real_stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
