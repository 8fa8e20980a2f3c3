"""Helpers for testing code built on tinygrad_bn (needs the ``test`` extra: hypothesis)."""
