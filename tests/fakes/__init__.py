"""Faithful local fakes of external HTTP APIs (real HTTP on loopback)."""
