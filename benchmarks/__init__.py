"""``make bench``: throughput and memory figures, as ratios to baselines run alongside."""
