"""Benchmarks: each `bench_*.py` module has a `main()` that prints comparable numbers and baselines."""
