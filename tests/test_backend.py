"""The NumPy/CuPy switch: device names, the default device, moves, seeds, scatter-add."""
import os
import subprocess
import sys

import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import backend


@pytest.fixture(autouse=True)
def _fresh_default_device(monkeypatch):
    """Each test starts with no default device set and no $TINYGRAD_BN_DEVICE; both are restored after it."""
    monkeypatch.setattr(backend, "_default_device", None)
    monkeypatch.delenv("TINYGRAD_BN_DEVICE", raising=False)


@pytest.fixture
def without_cupy(monkeypatch):
    """Make ``import cupy`` fail, as on a machine where CuPy is not installed."""
    monkeypatch.setitem(sys.modules, "cupy", None)
    monkeypatch.setattr(backend, "_cupy", None)


def test_cpu_is_always_available():
    assert "cpu" in tg.available_devices()
    assert set(tg.available_devices()) <= {"cpu", "cuda"}


def test_set_default_device_routes_new_tensors(device):
    tg.set_default_device(device)
    for t in (tg.tensor([1.0, 2.0]), tg.zeros(2), tg.randn(3), tg.arange(4)):
        assert t.device == device
        assert isinstance(t._data, backend.xp_of(device).ndarray)
    tg.set_default_device(None)
    assert tg.get_default_device() == "cpu"


def test_environment_variable_routes_new_tensors(device, monkeypatch):
    monkeypatch.setenv("TINYGRAD_BN_DEVICE", device)
    assert tg.get_default_device() == device
    t = tg.ones(2, 3)
    assert t.device == device and isinstance(t._data, backend.xp_of(device).ndarray)


def test_environment_variable_is_really_read(monkeypatch, without_cupy):
    """Without CuPy, TINYGRAD_BN_DEVICE=cuda must make tensor creation fail; set_default_device wins over it."""
    monkeypatch.setenv("TINYGRAD_BN_DEVICE", "cuda")
    with pytest.raises(RuntimeError, match="CuPy"):
        tg.zeros(2)
    tg.set_default_device("cpu")
    assert tg.zeros(2).device == "cpu"


@pytest.mark.parametrize("make", [
    lambda: tg.zeros(2, device="tpu"),
    lambda: tg.tensor([1.0], device="gpu"),
    lambda: tg.set_default_device("mps"),
    lambda: tg.tensor([1.0]).to("cuda0"),
])
def test_unknown_device_names_the_valid_ones(make):
    with pytest.raises(ValueError, match=r"unknown device .*'cpu', 'cuda'"):
        make()


def test_unknown_device_in_the_environment_is_rejected(monkeypatch):
    monkeypatch.setenv("TINYGRAD_BN_DEVICE", "tpu")
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        tg.zeros(1)


def test_cuda_without_cupy_says_what_to_install(without_cupy):
    assert tg.available_devices() == ["cpu"]
    for make in (lambda: tg.zeros(2, device="cuda"), lambda: tg.set_default_device("cuda"),
                 lambda: tg.tensor([1.0]).cuda()):
        with pytest.raises(RuntimeError) as info:
            make()
        assert "CuPy" in str(info.value)
        assert "pip install 'tinygrad_bn[gpu]'" in str(info.value)


def test_accelerator_answers_as_torch_accelerator_without_a_gpu(without_cupy):
    assert not tg.accelerator.is_available() and tg.accelerator.current_accelerator() is None
    assert tg.accelerator.device_count() == 0 and tg.accelerator.current_device_index() == -1
    tg.accelerator.synchronize()                  # nothing to wait for
    device = tg.accelerator.current_accelerator().type if tg.accelerator.is_available() else "cpu"
    assert tg.zeros(1, device=device).device == "cpu"     # the tutorials' idiom


def test_accelerator_names_the_gpu_where_there_is_one():
    if "cuda" not in tg.available_devices():
        pytest.skip("no cuda device (neither CuPy nor the stand-in)")
    accelerator = tg.accelerator.current_accelerator()
    assert tg.accelerator.is_available() and accelerator == "cuda" and accelerator.type == "cuda"
    assert tg.accelerator.device_count() == 1 and tg.accelerator.current_device_index() == 0
    assert tg.ones(2, device=accelerator).device == "cuda"
    tg.accelerator.synchronize()


def test_a_failed_set_default_device_changes_nothing(without_cupy):
    tg.set_default_device("cpu")
    with pytest.raises(RuntimeError, match="CuPy"):
        tg.set_default_device("cuda")
    with pytest.raises(ValueError, match="unknown device"):
        tg.set_default_device("tpu")
    assert tg.get_default_device() == "cpu" and tg.zeros(2).device == "cpu"


def test_to_and_cpu_round_trip_keeps_values_and_dtype(device):
    x = tg.randn(3, 4, dtype=tg.float64)
    there = x.to(device)
    assert there.device == device and there.dtype == np.float64
    back = there.cpu()
    assert back.device == "cpu"
    np.testing.assert_array_equal(back.numpy(), x.numpy())


def test_moving_between_devices_is_differentiable(device):
    x = tg.randn(2, 3, dtype=tg.float64, requires_grad=True)
    assert tg.gradcheck(lambda t: (t.to(device) * t.to(device)).cpu(), x)


def test_manual_seed_makes_random_draws_reproducible(device):
    tg.manual_seed(123)
    first = (tg.randn(4, 5, device=device).numpy(), tg.rand(7, device=device).numpy())
    tg.manual_seed(123)
    again = (tg.randn(4, 5, device=device).numpy(), tg.rand(7, device=device).numpy())
    tg.manual_seed(124)
    other = tg.randn(4, 5, device=device).numpy()
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], other)
    assert ((0 <= first[1]) & (first[1] < 1)).all()


def test_same_seed_gives_the_same_numbers_on_every_device(device):
    tg.manual_seed(5)
    on_cpu = tg.randn(6, device="cpu").numpy()
    tg.manual_seed(5)
    np.testing.assert_array_equal(tg.randn(6, device=device).numpy(), on_cpu)


def test_scatter_add_accumulates_repeated_indices(device):
    xp = backend.xp_of(device)
    target = xp.zeros(5, dtype=xp.float64)
    indices = xp.asarray([0, 2, 2, 4, 2, 0])
    values = xp.asarray([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    backend.scatter_add(target, indices, values)
    expected = np.zeros(5)
    for i, v in zip([0, 2, 2, 4, 2, 0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]):
        expected[i] += v                               # the loop scatter-add stands in for
    np.testing.assert_array_equal(backend.to_numpy(target), expected)


def test_scatter_add_on_rows_of_a_matrix(device):
    xp = backend.xp_of(device)
    target = xp.ones((3, 2))
    backend.scatter_add(target, xp.asarray([1, 1, 1]), xp.asarray([[1.0, 2.0]] * 3))
    np.testing.assert_array_equal(backend.to_numpy(target), [[1, 1], [4, 7], [1, 1]])


def test_host_copies_are_numpy_arrays(device):
    t = tg.arange(6, device=device).reshape(2, 3)
    host = t.numpy()
    assert type(host) is np.ndarray
    np.testing.assert_array_equal(host, np.arange(6).reshape(2, 3))
    assert backend.device_of(t._data) == device


def test_set_num_threads_limits_the_blas_pool():
    previous = tg.get_num_threads()
    try:
        tg.set_num_threads(1)
        assert tg.get_num_threads() == 1
        a = np.ones((64, 64))
        assert (a @ a)[0, 0] == 64.0                    # products still work with one thread
    finally:
        tg.set_num_threads(previous)
    assert tg.get_num_threads() == previous
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="positive integer"):
            tg.set_num_threads(bad)


def test_set_num_threads_also_holds_for_blas_pools_loaded_afterwards():
    """SciPy ships its own OpenBLAS; imported after ``set_num_threads(1)`` its pool
    must have one thread too, and ``get_num_threads`` reports NumPy's pool."""
    pytest.importorskip("scipy")
    pytest.importorskip("threadpoolctl")
    script = ("import tinygrad_bn as tg; tg.set_num_threads(1); import scipy.linalg; "
              "from threadpoolctl import threadpool_info; "
              "print(max(p['num_threads'] for p in threadpool_info() if p['user_api'] == 'blas'), "
              "tg.get_num_threads())")
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split() == ["1", "1"]


def test_generators_are_independent_and_reproducible():
    """A Generator draws its own stream: the same seed gives the same numbers, drawing from
    it leaves the library's generator where it was, and get_state / set_state resume it."""
    tg.manual_seed(0)
    expected_default = tg.randn(4).tolist()
    tg.manual_seed(0)
    g = tg.Generator().manual_seed(42)
    first = tg.randn(3, generator=g).tolist()
    assert tg.randn(4).tolist() == expected_default                      # untouched by g's draws
    assert tg.randn(3, generator=tg.Generator().manual_seed(42)).tolist() == first
    assert tg.Generator().manual_seed(42).initial_seed() == 42
    state = g.get_state()
    ahead = [tg.rand(2, generator=g).tolist(), tg.randint(0, 9, (3,), generator=g).tolist(),
             tg.randperm(5, generator=g).tolist()]
    g.set_state(state)
    assert [tg.rand(2, generator=g).tolist(), tg.randint(0, 9, (3,), generator=g).tolist(),
            tg.randperm(5, generator=g).tolist()] == ahead
    w = tg.empty(3)
    w.normal_(generator=tg.Generator().manual_seed(7))
    assert w.tolist() == tg.empty(3).normal_(generator=tg.Generator().manual_seed(7)).tolist()
    assert tg.Generator().manual_seed(-1).initial_seed() == 2 ** 64 - 1     # torch's two's complement


def test_manual_seed_returns_the_default_generator_and_seeds_it():
    g = tg.manual_seed(3)
    assert g is tg.default_generator and g.initial_seed() == 3
    a = tg.rand(2).tolist()
    tg.manual_seed(3)
    assert tg.rand(2, generator=tg.default_generator).tolist() == a
    with pytest.raises(TypeError, match="generator must be a tg.Generator"):
        tg.randn(2, generator=np.random.default_rng(0))
