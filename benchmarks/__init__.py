"""Benchmarks (``make bench``): figures measured on real processes and a real PostgreSQL.

``python -m benchmarks`` writes docs/benchmarks.md; see that file for what each figure means
and the command that reproduces it.
"""
