"""Thin Bytewax adapters around the domain operators."""
