"""Benchmarks of DESIGN §9 (not tests): each prints figures and the run writes JSON."""
