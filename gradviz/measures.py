"""Moved to ``gradviz.bench_stats`` ("measure" named too many things). This name stays for old
imports and is the very same module."""

import sys

from gradviz import bench_stats

sys.modules[__name__] = bench_stats
