"""The engine: population arrays, network (CSR), counter-based random streams, the day plan, run_days."""
