"""tg.save / tg.load: bit-exact round trips, atomic writes, clear errors for bad files,
and loading into a model (a mismatched checkpoint changes nothing)."""
import os

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_bn as tg
from tinygrad_bn import nn

DTYPES = [np.float32, np.float64, np.int64, np.int32]


@given(arrays=st.lists(st.sampled_from(DTYPES).flatmap(
    lambda d: hnp.arrays(d, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4),
                         elements=None if d in (np.int64, np.int32) else
                         st.floats(width=np.dtype(d).itemsize * 8, allow_nan=True, allow_infinity=True))),
    min_size=1, max_size=4))
def test_round_trip_is_bit_exact(tmp_path_factory, arrays):
    path = tmp_path_factory.mktemp("ckpt") / "state.npz"
    state = {f"layer.{i}.value": tg.Tensor(a, dtype=a.dtype) for i, a in enumerate(arrays)}
    tg.save(state, path)
    loaded = tg.load(path)
    assert list(loaded) == list(state)
    for name, a in zip(loaded, arrays):
        assert isinstance(loaded[name], tg.Tensor) and loaded[name].device == "cpu"
        b = loaded[name].numpy()
        assert b.dtype == a.dtype and b.shape == a.shape
        assert b.tobytes() == a.tobytes()              # bit-exact, NaN payloads and -0.0 included


def test_model_round_trip_through_a_file(tmp_path, device):
    model = nn.Sequential(nn.Linear(4, 3), nn.Sigmoid(), nn.Linear(3, 2)).to(device)
    path = tmp_path / "model.npz"
    tg.save(model.state_dict(), path)
    other = nn.Sequential(nn.Linear(4, 3), nn.Sigmoid(), nn.Linear(3, 2)).to(device)
    other.load_state_dict(tg.load(path))
    for (name, a), (_, b) in zip(model.state_dict().items(), other.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
    assert all(p.device == device for p in other.parameters())


def test_save_writes_exactly_at_path_and_accepts_arrays(tmp_path):
    path = tmp_path / "no_suffix"
    tg.save({"w": np.arange(3.0)}, path)
    assert os.listdir(tmp_path) == ["no_suffix"]
    np.testing.assert_array_equal(tg.load(str(path))["w"].numpy(), np.arange(3.0))


def test_failed_write_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    tg.save({"w": np.ones(3)}, path)
    before = path.read_bytes()

    def half_written(file, **arrays):
        file.write(b"PK\x03\x04 a partial zip archive")
        raise OSError("No space left on device")

    monkeypatch.setattr(np, "savez", half_written)
    with pytest.raises(OSError, match="No space left"):
        tg.save({"w": np.zeros(1000)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.npz"]          # the temporary file was removed


@pytest.mark.parametrize("content", [
    b"", b"not a checkpoint at all", b"PK\x03\x04 truncated zip",
])
def test_corrupt_files_raise_naming_the_path(tmp_path, content):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=r"bad\.npz.*not a valid \.npz checkpoint"):
        tg.load(path)


def test_truncated_checkpoint_raises(tmp_path):
    path = tmp_path / "cut.npz"
    tg.save({"w": np.arange(1000.0), "b": np.arange(10)}, path)
    path.write_bytes(path.read_bytes()[:3000])
    with pytest.raises(ValueError, match=r"cut\.npz.*not a valid"):
        tg.load(path)


def test_npy_and_pickled_files_are_rejected(tmp_path):
    npy = tmp_path / "single.npy"
    np.save(npy, np.zeros(3))
    with pytest.raises(ValueError, match="single .npy array"):
        tg.load(npy)
    pickled = tmp_path / "objects.npz"
    np.savez(pickled, x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(ValueError, match="objects.npz"):
        tg.load(pickled)


def test_missing_file_and_unsaveable_values(tmp_path):
    with pytest.raises(FileNotFoundError):
        tg.load(tmp_path / "absent.npz")
    with pytest.raises(TypeError, match="entry 'x' has dtype"):
        tg.save({"x": np.array(["text"])}, tmp_path / "s.npz")
    with pytest.raises(TypeError, match="keys must be strings"):
        tg.save({1: np.zeros(1)}, tmp_path / "s.npz")


def test_mismatched_checkpoint_changes_nothing(tmp_path):
    path = tmp_path / "small.npz"
    tg.save(nn.Linear(3, 2).state_dict(), path)
    model = nn.Linear(4, 2)
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    with pytest.raises(RuntimeError, match="size mismatch for 'weight'"):
        model.load_state_dict(tg.load(path))
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])


def test_load_onto_a_device(tmp_path, device):
    path = tmp_path / "d.npz"
    tg.save({"w": np.arange(3.0)}, path)
    assert tg.load(path, device=device)["w"].device == device
