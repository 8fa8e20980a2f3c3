"""Helpers for testing code built on tinygrad_bn (they need the ``test`` extra: hypothesis).

    strategies        Hypothesis strategies: shapes, arrays, tensors, indices
    bn_cases          BatchNorm inputs with a guaranteed spread ((N, C), (N, C, L) or (N, C, H, W)),
                      and BatchNorm in NumPy
    bn_properties     the properties BatchNorm must have, as check_* functions
    bn_running_stats  the running statistics as a Hypothesis state machine
    norm_cases        inputs for LayerNorm, GroupNorm, InstanceNorm and ghost batches, and their NumPy oracle
    norm_properties   the properties of those layers, read as bn_properties
    renorm_running_stats  Batch Renormalization under BatchNorm's state machine

The BatchNorm tests of the suite and the exercise checks (exercises/) run the
same properties.
"""
