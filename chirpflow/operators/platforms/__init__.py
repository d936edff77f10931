"""Normalization of the posts of platforms other than X (one module each)."""
