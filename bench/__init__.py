"""Benchmark harness: ours vs a naive DRF baseline vs the floor, as ratios in one run."""
