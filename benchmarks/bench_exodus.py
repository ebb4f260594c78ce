"""Benchmark: one full exodus run (24 Feb 2022 - 31 Dec 2023) at one agent per person, on one core.

Target (issue 3): at least one million travellers in <= 10 s. The default parameters give fewer than a
million travellers, so the benchmark also runs a 'large' variant with the baseline and push intensities
raised until the run creates over a million travellers (same code path, more agents). Prints wall time,
travellers, agent-steps per second, per-step seconds and peak memory; does not gate anything.

    NUMBA_NUM_THREADS=1 .venv/bin/python benchmarks/bench_exodus.py [--seed 0] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

LARGE = {"baseline_emigration_per_year": 90000, "push_invasion_intensity": 30, "push_mobilization_intensity": 3000}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per variant (best is reported)")
    args = ap.parse_args()
    from emigre.behaviour.exodus import simulate

    t = time.perf_counter()
    simulate(seed=args.seed, scale=50, end="2022-03-31")  # compile (cached on disk after the first time)
    print(f"warm-up (numba compile or cache load): {time.perf_counter() - t:.1f} s")
    print(f"{'variant':<9}{'travellers':>12}{'departed':>12}{'best s':>9}{'agent-steps/s':>16}  per-step s")
    for name, params in (("default", {}), ("large", LARGE)):
        best = None
        for _ in range(args.repeat):
            r = simulate(seed=args.seed, params=params, scale=1.0)
            if best is None or r.seconds < best.seconds:
                best = r
        s = best.summary()
        steps = ", ".join(f"{k} {v:.2f}" for k, v in best.step_seconds.items())
        print(f"{name:<9}{s['travellers']:>12,}{s['departed']:>12,.0f}{best.seconds:>9.2f}"
              f"{best.agent_steps / best.seconds:>16,.0f}  {steps}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:,.0f} MB; target: >= 1,000,000 travellers in <= 10 s on one core")


if __name__ == "__main__":
    main()
