"""Demos that rerun the experiments of the Batch Normalization papers."""
