"""The rulesets on the engine: the exodus from Russia and Flee's rules, their Numba kernels, one simulate()."""
