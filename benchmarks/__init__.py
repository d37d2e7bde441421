"""Benchmarks for mlx-lrsched: every number is measured beside the alternative, in the same run.

Run everything with ``python -m benchmarks.all [--quick]`` from the repository root; each module is also a
script (``python -m benchmarks.overhead --quick``). See ``benchmarks/README.md``.
"""
