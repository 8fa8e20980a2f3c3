"""``tg.cuda``: whether the GPU device can be used, as ``torch.cuda``."""
from . import backend


def is_available():
    """True where CuPy is installed and a CUDA GPU is usable (``device="cuda"`` works)."""
    return backend.CUDA in backend.available_devices()


def device_count():
    """Number of usable GPUs as the library sees them: 1 or 0 (one GPU is used)."""
    return 1 if is_available() else 0


def synchronize():
    """Wait until the GPU has finished all queued work (for timing); nothing on a CPU-only machine."""
    if is_available():
        backend.xp_of(backend.CUDA).cuda.Device().synchronize()


def manual_seed(seed):
    """Seed the library's generator, which serves every device (``tg.manual_seed``)."""
    backend.manual_seed(seed)


manual_seed_all = manual_seed
