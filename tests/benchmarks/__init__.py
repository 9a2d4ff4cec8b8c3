"""Benchmarks of the MLS group engine; run on demand (``make bench``), not by pytest."""
