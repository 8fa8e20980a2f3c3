"""The NumPy/CuPy switch.

Every array the library touches lives on a *device*: ``"cpu"`` arrays are
NumPy arrays, ``"cuda"`` arrays are CuPy arrays.  Ops never import NumPy or
CuPy themselves; they ask this module for the array module ``xp`` of a
device and call ``xp.exp``, ``xp.matmul``, ...  The few places where the two
libraries differ (random generators, host copies) are wrapped here, so the
rest of the code is written once.
"""
import collections
import os

import numpy



class device(str):
    """A device name, as ``torch.device``: ``tg.device("cuda")``, ``x.device.type``.

    It is a string, so ``x.device == "cpu"`` holds and it can be passed
    wherever a device name is expected.  "cuda:0" names the one GPU the
    library uses ("cuda"; multi-GPU placement is not modelled).
    """

    def __new__(cls, name):
        return str.__new__(cls, _canonical_name(name))

    @property
    def type(self):
        """"cpu" or "cuda"."""
        return str(self)

    @property
    def index(self):
        """None on the CPU, 0 on the GPU (the one GPU the library uses)."""
        return None if self == "cpu" else 0

    def __repr__(self):
        return f"device(type='{self}')"


def _canonical_name(name):
    name = str(name)
    if name == "cuda:0":
        name = "cuda"
    elif name.startswith("cuda:") and name[5:].isdigit():
        raise ValueError(f"device {name!r}: tinygrad_bn uses one GPU, 'cuda' (or 'cuda:0')")
    if name not in ("cpu", "cuda"):
        raise ValueError(f"unknown device {name!r}: expected one of ('cpu', 'cuda')")
    return name


CPU, CUDA = device("cpu"), device("cuda")
DEVICES = (CPU, CUDA)

_default_device = None
_cupy = None


def _import_cupy():
    """CuPy, imported on first use; a clear error when it or a GPU is missing."""
    global _cupy
    if _cupy is None:
        try:
            import cupy
        except ImportError as exc:
            raise RuntimeError(
                "device 'cuda' needs CuPy, which is not installed; "
                "install it with: pip install 'tinygrad_bn[gpu]' (CuPy for CUDA 12)") from exc
        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:  # CUDA driver missing or broken
            raise RuntimeError(f"device 'cuda': CuPy is installed but no CUDA GPU is usable ({exc})") from exc
        if count == 0:
            raise RuntimeError("device 'cuda': CuPy is installed but no CUDA GPU was found")
        _cupy = cupy
    return _cupy


def check_device(name):
    """The device for a name ("cpu", "cuda", "cuda:0", a ``device``); None means the default."""
    if name is None:
        return get_default_device()
    if not isinstance(name, str):
        raise TypeError(f"expected a device name such as 'cpu' or 'cuda', got {type(name).__name__} {name!r}")
    return CPU if _canonical_name(name) == CPU else CUDA


def xp_of(device):
    """The array module (numpy or cupy) that holds arrays of ``device``."""
    return numpy if device == CPU else _import_cupy()


def device_of(array):
    """The device an array lives on: NumPy arrays and scalars are on the CPU."""
    return CPU if isinstance(array, (numpy.ndarray, numpy.generic)) or _cupy is None \
        or not isinstance(array, _cupy.ndarray) else CUDA


def available_devices():
    """Devices usable on this machine: always "cpu", plus "cuda" with CuPy and a GPU."""
    try:
        _import_cupy()
    except RuntimeError:
        return [CPU]
    return [CPU, CUDA]


def get_default_device():
    """The device new tensors go to: ``set_default_device``, else $TINYGRAD_BN_DEVICE, else "cpu"."""
    if _default_device is not None:
        return _default_device
    env = os.environ.get("TINYGRAD_BN_DEVICE")
    return check_device(env) if env else CPU


def set_default_device(device):
    """Send new tensors to ``device`` (``None`` returns to the environment/"cpu" default).

    A device that cannot be used (an unknown name, "cuda" without CuPy or a
    GPU) raises and leaves the default as it was.
    """
    global _default_device
    chosen = None if device is None else check_device(device)
    if chosen == CUDA:
        _import_cupy()
    _default_device = chosen


# ----------------------------------------------------------------- host <-> device
# Every copy across the bus that the library makes goes through to_device and
# to_numpy, which count it, so a test can assert that a training step makes none.
transfers = collections.Counter()        # "to device", "to host"


def to_device(array, device):
    """``array`` as an array of ``device`` (a copy when it has to cross the bus)."""
    if device == CPU:
        return array if isinstance(array, numpy.ndarray) else to_numpy(array)
    cupy = xp_of(CUDA)
    if not isinstance(array, cupy.ndarray):
        transfers["to device"] += 1
    return cupy.asarray(array)


def to_numpy(array):
    """A host NumPy array, from a NumPy or CuPy array (waits for the GPU).  Checks
    deferred with ``check_later`` are made first: a read of GPU results is where
    their errors surface."""
    if isinstance(array, numpy.ndarray):
        return array
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        if _deferred:
            run_deferred_checks()
        transfers["to host"] += 1
        return array.get()
    return numpy.asarray(array)


_deferred = []                           # (flag on the GPU, function that makes the error)


def check_later(flag, error):
    """Raise ``error()`` if the boolean 0-d array ``flag`` is true: at once on the CPU,
    and on the GPU at the next read back to the host (or ``run_deferred_checks``),
    so that a check of data on the GPU costs no wait for the GPU where it is made."""
    if device_of(flag) == CPU:
        if flag:
            raise error()
    else:
        _deferred.append((flag, error))


def run_deferred_checks():
    """Raise the first error of the checks ``check_later`` deferred (one wait for the GPU)."""
    pending = list(_deferred)
    _deferred.clear()
    if not pending:
        return
    cupy = xp_of(CUDA)
    failed = cupy.stack([flag for flag, _ in pending]).get()
    transfers["to host"] += 1
    for (_, error), bad in zip(pending, failed):
        if bad:
            raise error()


def free_device_memory():
    """Free GPU memory in bytes, or None where it cannot be read."""
    try:
        return int(xp_of(CUDA).cuda.runtime.memGetInfo()[0])
    except (AttributeError, NotImplementedError, RuntimeError):
        return None


def scatter_add(target, indices, values):
    """``target[indices] += values`` where repeated indices accumulate (in place);
    ``add.at`` is the same call on NumPy and CuPy."""
    xp_of(device_of(target)).add.at(target, indices, values)


def overflow_ignored():
    """A context in which NumPy does not warn about overflow to inf (CuPy never warns);
    also a decorator (``@overflow_ignored()``), which costs one Python call fewer."""
    return numpy.errstate(over="ignore")


def float_errors_ignored():
    """A context in which NumPy neither warns nor raises on overflow, division by
    zero or invalid operations (CuPy never does): results become inf or NaN
    silently, as in PyTorch.  Also a decorator, as ``overflow_ignored``."""
    return numpy.errstate(all="ignore")


# ----------------------------------------------------------------- CPU threads
def set_num_threads(n):
    """Use ``n`` threads for the CPU's matrix products (the BLAS library under NumPy),
    as ``torch.set_num_threads``.  On a machine where other programs run, BLAS
    threads that spin-wait for each other slow everything down; one thread is
    often the fastest choice for the small products of these networks."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"set_num_threads expects a positive integer, got {n!r}")
    from threadpoolctl import threadpool_limits
    threadpool_limits(limits=n, user_api="blas")
    for variable in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        os.environ[variable] = str(n)       # read by BLAS pools that load later (SciPy's)


def get_num_threads():
    """The number of threads the CPU's matrix products use: those of the BLAS
    library shipped with NumPy where it has its own (SciPy, say, may load
    another), otherwise the largest BLAS pool loaded."""
    from threadpoolctl import threadpool_info
    pools = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    numpys = [pool for pool in pools if "numpy" in pool["filepath"].replace("\\", "/").split("/")[-2]]
    return max((pool["num_threads"] for pool in numpys or pools), default=1)


# ----------------------------------------------------------------- randomness
# One NumPy generator serves every device: random arrays are drawn on the host
# and moved, so the same seed gives the same numbers on "cpu" and "cuda".
class Generator:
    """A source of random numbers of its own, as ``torch.Generator``:
    ``g = tg.Generator().manual_seed(42)``, then ``random_split(..., generator=g)``,
    ``DataLoader(..., generator=g)``, ``tg.randn(3, generator=g)``.  Draws are made on
    the host (a NumPy generator) whatever ``device`` says, so they are the same on
    every device; they are not the numbers torch would draw."""

    def __init__(self, device="cpu"):
        self.device = check_device(device)
        self.seed()

    def manual_seed(self, seed):
        """Restart from ``seed`` (an int); returns the generator."""
        seed = int(seed)
        if seed < 0:
            seed += 1 << 64          # torch takes negative seeds as their 64-bit two's complement
        self._seed = seed
        self.numpy_generator = numpy.random.default_rng(seed)
        return self

    def seed(self):
        """Restart from a fresh, unpredictable seed; returns it."""
        self.manual_seed(numpy.random.SeedSequence().entropy % (1 << 64))
        return self._seed

    def initial_seed(self):
        """The seed the generator last started from."""
        return self._seed

    def get_state(self):
        """The generator's state (a dict), for ``set_state``."""
        return {"seed": self._seed, "bit_generator": self.numpy_generator.bit_generator.state}

    def set_state(self, state):
        """Continue from a state ``get_state`` returned; returns the generator."""
        generator = numpy.random.default_rng()
        generator.bit_generator.state = state["bit_generator"]
        self._seed, self.numpy_generator = state["seed"], generator
        return self


default_generator = Generator()


def manual_seed(seed):
    """Seed every random draw of the library (initial weights, shuffles, ``randn``...);
    returns the default generator, as ``torch.manual_seed``."""
    return default_generator.manual_seed(seed)


def rng(generator=None):
    """The NumPy generator to draw from: ``generator``'s, or the library's."""
    if generator is None:
        return default_generator.numpy_generator
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be a tg.Generator, got {type(generator).__name__}")
    return generator.numpy_generator
