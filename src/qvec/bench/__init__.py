"""Benchmark harnesses behind ``qvec bench``: they print tables and write JSON, never assert on time."""
