"""Composite functions on Tensors, PyTorch-shaped: ``import tinygrad_bn.functional as F``."""
from .ops.batch_norm import BatchNorm, channel_shape


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch Normalization of x, shape (N, C) or (N, C, L), per channel (axis 1), as
    ``torch.nn.functional.batch_norm``.

    training: normalise with the batch's mean and biased variance (the fused
    ``BatchNorm`` op) and, where the running buffers are given, update them in
    place: running = (1 - momentum) * running + momentum * batch statistic, the
    variance stored being the unbiased one.  Otherwise: the affine map
    y = weight * (x - running_mean) / sqrt(running_var + eps) + bias, which is
    differentiable in x, weight and bias like any composition of ops.
    """
    if x.ndim not in (2, 3):
        raise ValueError(f"batch_norm: expected a 2D (N, C) or 3D (N, C, L) input, got {x.ndim}D input "
                         f"of shape {tuple(x.shape)}")
    channels = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var),
                    ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (channels,):
            raise ValueError(f"batch_norm: expected an input with {t.data.size} channels (the size of "
                             f"{name}), got input of shape {tuple(x.shape)} with {channels} channels")
    if training:
        if x.data.size // channels <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, "
                             f"got input size {tuple(x.shape)}")
        return BatchNorm.apply(x, weight, bias, running_mean, running_var, momentum, eps)
    if running_mean is None or running_var is None:
        raise ValueError("batch_norm: running_mean and running_var are needed when not training")
    shape = channel_shape(x)
    scale = (running_var.detach() + eps) ** -0.5
    if weight is not None:
        scale = scale * weight
    y = (x - running_mean.detach().reshape(shape)) * scale.reshape(shape)
    return y if bias is None else y + bias.reshape(shape)
