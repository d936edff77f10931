"""Domain operators: validation, dedup, chunking, analysis. Plain Python, no bytewax."""
