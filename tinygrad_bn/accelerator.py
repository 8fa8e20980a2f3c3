"""``tg.accelerator``: PyTorch's device-neutral questions about the GPU, as ``torch.accelerator``.

The accelerator here is CUDA through CuPy, or none: current PyTorch tutorials
choose their device with
``torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"``.
"""
from . import backend, cuda


def is_available():
    """True where an accelerator (a CUDA GPU through CuPy) can be used."""
    return cuda.is_available()


def current_accelerator(check_available=False):
    """``tg.device("cuda")`` where it can be used, else None.  (PyTorch answers what it was
    built for unless ``check_available``; a NumPy/CuPy library has no build to ask, so
    both answers are the usable one.)"""
    return backend.device(backend.CUDA) if is_available() else None


def device_count():
    """1 with a usable GPU (the library uses one), else 0."""
    return cuda.device_count()


def current_device_index():
    """0, the one GPU the library uses (-1 without one)."""
    return 0 if is_available() else -1


def synchronize(device=None):
    """Wait until the accelerator has finished its queued work (nothing without one)."""
    cuda.synchronize()
