"""tg.save / tg.load: nested checkpoints round-trip exactly (types, keys, bits), any key
name survives, NumPy can open the file, loading never unpickles (armed pickles stay
unfired), every other kind of file is refused by name, writes are atomic, and a
model + SGD checkpoint resumes training exactly."""
import io
import json
import os
import pickle
import stat
import struct
import zipfile
from collections import OrderedDict, defaultdict, namedtuple

import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

import tinygrad_bn as tg
import tinygrad_bn.functional as F
from tinygrad_bn import nn, optim

DTYPES = [np.bool_, np.int8, np.uint8, np.int32, np.int64, np.float16, np.float32, np.float64,
          np.complex64, np.complex128]


# ------------------------------------------------------------ helpers

def assert_identical(loaded, saved, where="obj"):
    """Same type at every level, same keys (with their types) in the same order, same bits."""
    assert type(loaded) is type(saved), f"{where}: {type(loaded)} != {type(saved)}"
    if isinstance(saved, tg.Tensor):
        assert loaded.device == saved.device and loaded.requires_grad == saved.requires_grad, where
        assert_same_array(loaded.detach().numpy(), saved.detach().numpy(), where)
    elif isinstance(saved, (np.ndarray, np.generic)):
        assert_same_array(np.asarray(loaded), np.asarray(saved), where)
    elif isinstance(saved, dict):
        assert [(type(k), k) for k in loaded] == [(type(k), k) for k in saved], where
        for key in saved:
            assert_identical(loaded[key], saved[key], f"{where}[{key!r}]")
    elif isinstance(saved, (list, tuple)):
        assert len(loaded) == len(saved), where
        for i, (a, b) in enumerate(zip(loaded, saved)):
            assert_identical(a, b, f"{where}[{i}]")
    elif isinstance(saved, float):
        assert struct.pack(">d", loaded) == struct.pack(">d", saved), where
    elif isinstance(saved, complex):
        assert struct.pack(">dd", loaded.real, loaded.imag) == struct.pack(">dd", saved.real, saved.imag), where
    else:
        assert loaded == saved, where


def assert_same_array(a, b, where):
    assert a.dtype == b.dtype and a.shape == b.shape, f"{where}: {a.dtype}{a.shape} != {b.dtype}{b.shape}"
    assert a.tobytes() == b.tobytes(), where          # bit-exact: NaN payloads and -0.0 included


def round_trip(obj, path):
    tg.save(obj, path)
    return tg.load(path)


def replace_entry(path, name, data):
    """Rewrite the zip at ``path`` with entry ``name`` holding ``data``."""
    with zipfile.ZipFile(path) as archive:
        entries = [(info.filename, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w") as archive:
        for entry, content in entries:
            archive.writestr(entry, data if entry == name else content)


def structure_of(path):
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("tinygrad_bn.json"))


class ArmedPickle:
    """Unpickling this creates the file ``marker``: the stand-in for any code a pickle can run."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


# ------------------------------------------------------------ round trips

def arrays_of(dtype):
    return hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=3))


numpy_arrays = st.sampled_from(DTYPES).flatmap(arrays_of)
tensors = st.tuples(numpy_arrays, st.booleans()).map(
    lambda a_grad: tg.Tensor(a_grad[0], requires_grad=a_grad[1] and a_grad[0].dtype.kind == "f"))
numpy_scalars = st.sampled_from(DTYPES).flatmap(lambda d: hnp.arrays(d, ())).map(lambda a: a[()])
python_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.complex_numbers() | st.text()
keys = st.text() | st.integers()
structures = st.recursive(
    python_scalars | numpy_scalars | numpy_arrays | tensors,
    lambda children: (st.lists(children, max_size=3) | st.lists(children, max_size=3).map(tuple)
                      | st.dictionaries(keys, children, max_size=3)
                      | st.dictionaries(keys, children, max_size=3).map(OrderedDict)),
    max_leaves=10)


@given(obj=structures)
def test_nested_structures_round_trip_exactly(tmp_path_factory, obj):
    path = tmp_path_factory.mktemp("ckpt") / "obj.npz"
    assert_identical(round_trip(obj, path), obj)


def test_a_training_checkpoint_round_trips_with_int_keys_and_tuples(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    checkpoint = {
        "epoch": 3, "model": model.state_dict(), "best_acc": 0.91,
        "optimizer": {"state": {0: {"step": 5, "momentum_buffer": tg.randn(4, 3)},
                                1: {"step": 5, "momentum_buffer": tg.randn(4)}},
                      "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "nesterov": False,
                                        "params": [0, 1]}]}}
    loaded = round_trip(checkpoint, tmp_path / "ckpt.npz")
    assert_identical(loaded, checkpoint)
    assert type(loaded["model"]) is OrderedDict and list(loaded["optimizer"]["state"]) == [0, 1]
    assert loaded["optimizer"]["param_groups"][0]["betas"] == (0.9, 0.999)


def test_special_floats_keep_their_bits(tmp_path):
    payload_nans = np.array([0x7FF0000000000001, 0xFFF8000000000123, 0x7FF8000000000000], np.uint64).view(np.float64)
    float32_nans = np.array([0x7FC00001, 0xFF800002], np.uint32).view(np.float32)
    python_nan = struct.unpack(">d", bytes.fromhex("fff80000000abcde"))[0]
    obj = {"f64": payload_nans, "f32": tg.Tensor(float32_nans), "zeros": np.array([-0.0, 0.0]),
           "nan": python_nan, "inf": -float("inf"), "negative_zero": -0.0, "tiny": 5e-324,
           "complex": complex(python_nan, -0.0), "scalar": np.float16(-0.0), "empty": np.zeros((0, 3), np.float32),
           "0-d": np.array(np.nan), "big int": 2 ** 100, "negative": -(2 ** 70)}
    assert_identical(round_trip(obj, tmp_path / "special.npz"), obj)


def test_every_key_name_survives(tmp_path):
    names = ["allow_pickle", "file", "", "0", "0.npy", "tinygrad_bn.json", "layer.0.weight", "a/b", "../up",
             "\\back", "ünï ∂ 🙂", "\x00nul", " space "]
    state = OrderedDict((name, tg.tensor([float(i)])) for i, name in enumerate(names))
    assert_identical(round_trip(state, tmp_path / "names.npz"), state)
    mixed = {1: "int one", "1": "str one", 0: [0], "0": (0,), -5: None}
    loaded = round_trip({"mixed": mixed}, tmp_path / "mixed.npz")["mixed"]
    assert_identical(loaded, mixed)
    assert loaded[1] == "int one" and loaded["1"] == "str one"


def test_tensors_come_back_as_saved(tmp_path):
    leaf = tg.randn(3, requires_grad=True)
    parameter = nn.Parameter(tg.randn(2, 2))
    frozen = nn.Parameter(tg.randn(2), requires_grad=False)
    computed = leaf * 2
    loaded = round_trip([leaf, parameter, frozen, computed.detach(), tg.tensor(7)], tmp_path / "t.npz")
    assert [type(t) for t in loaded] == [tg.Tensor, nn.Parameter, nn.Parameter, tg.Tensor, tg.Tensor]
    assert [t.requires_grad for t in loaded] == [True, True, False, False, False]
    assert all(t.is_leaf for t in loaded)
    np.testing.assert_array_equal(loaded[0].detach().numpy(), leaf.detach().numpy())


def test_numpy_values_come_back_as_numpy(tmp_path):
    obj = {"array": np.arange(6, dtype=np.int16).reshape(2, 3), "0-d": np.array(1.5), "scalar": np.int64(3),
           "flag": np.bool_(True), "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3))}
    loaded = round_trip(obj, tmp_path / "np.npz")
    assert_identical(loaded, obj)
    assert type(loaded["0-d"]) is np.ndarray and loaded["0-d"].shape == ()
    assert type(loaded["scalar"]) is np.int64


def test_numpy_can_open_the_checkpoint(tmp_path):
    path = tmp_path / "ckpt.npz"
    tg.save({"w": tg.tensor([[1.0, 2.0]]), "meta": {"epoch": 2}, "b": np.arange(3)}, path)
    with np.load(path, allow_pickle=False) as archive:
        assert archive.files == ["tinygrad_bn.json", "0", "1"]
        np.testing.assert_array_equal(archive["0"], np.array([[1.0, 2.0]], np.float32))
        np.testing.assert_array_equal(archive["1"], np.arange(3))
    structure = structure_of(path)
    assert (structure["format"], structure["version"]) == ("tinygrad_bn", 1)
    assert structure["object"]["items"][1] == ["meta", {"type": "dict", "items": [["epoch", {"type": "int", "value": 2}]]}]
    with zipfile.ZipFile(path) as archive:
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_STORED}


def test_saving_the_same_object_twice_writes_the_same_bytes(tmp_path):
    obj = {"model": nn.Linear(3, 2).state_dict(), "epoch": 1}
    tg.save(obj, tmp_path / "a.npz")
    tg.save(obj, tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def test_the_earlier_plain_npz_format_still_loads(tmp_path, device):
    path = tmp_path / "old.npz"
    arrays = OrderedDict([("0.weight", np.ones((2, 3), np.float32)), ("0.bias", np.zeros(2, np.float32)),
                          ("1.num_batches_tracked", np.array(4))])
    np.savez(path, **arrays)                      # how the earlier tg.save wrote a state dict
    for loaded, on in [(tg.load(path), "cpu"), (tg.load(path, map_location=device), device)]:
        assert type(loaded) is OrderedDict and list(loaded) == list(arrays)
        for name, array in arrays.items():
            assert type(loaded[name]) is tg.Tensor and loaded[name].device == on
            assert_same_array(loaded[name].numpy(), array, name)


def test_model_round_trip_through_a_file(tmp_path, device):
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Sigmoid(), nn.Linear(3, 2)).to(device)
    model(tg.randn(5, 4, device=device))          # running statistics and num_batches_tracked move
    path = tmp_path / "model.npz"
    tg.save(model.state_dict(), path)
    other = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3), nn.Sigmoid(), nn.Linear(3, 2)).to(device)
    other.load_state_dict(tg.load(path))
    assert_identical(other.state_dict(), model.state_dict())
    assert all(p.device == device for p in other.parameters())


def test_mismatched_checkpoint_changes_nothing(tmp_path, device):
    path = tmp_path / "small.npz"
    tg.save(nn.Linear(3, 2).to(device).state_dict(), path)
    model = nn.Linear(4, 2).to(device)
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    with pytest.raises(RuntimeError, match="size mismatch for 'weight'"):
        model.load_state_dict(tg.load(path))
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])


# ------------------------------------------------------------ resuming training

def test_model_and_sgd_checkpoint_resumes_training_exactly(tmp_path, device):
    """Model and optimizer state dicts (int keys, tuples, numbers, momentum buffers) through a file."""
    rng = np.random.default_rng(0)
    batches = [(tg.tensor(rng.standard_normal((8, 4)).astype(np.float32), device=device),
                tg.tensor(rng.integers(0, 3, 8), device=device)) for _ in range(6)]

    def fresh(seed):
        tg.manual_seed(seed)
        model = nn.Sequential(nn.Linear(4, 5), nn.BatchNorm1d(5), nn.Sigmoid(), nn.Linear(5, 3)).to(device)
        return model, optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3)

    def train(model, optimizer, steps):
        for x, y in steps:
            optimizer.zero_grad()
            F.cross_entropy(model(x), y).backward()
            optimizer.step()

    model, optimizer = fresh(seed=1)
    train(model, optimizer, batches[:3])
    tg.save({"epoch": 3, "model": model.state_dict(), "optimizer": optimizer.state_dict()}, tmp_path / "c.npz")
    train(model, optimizer, batches[3:])                    # the run that was never interrupted

    resumed, resumed_optimizer = fresh(seed=2)              # other initial weights, no momentum yet
    checkpoint = tg.load(tmp_path / "c.npz")
    resumed.load_state_dict(checkpoint["model"])
    resumed_optimizer.load_state_dict(checkpoint["optimizer"])
    train(resumed, resumed_optimizer, batches[checkpoint["epoch"]:])
    assert resumed.state_dict()["1.num_batches_tracked"].item() == 6
    assert_identical(resumed.state_dict(), model.state_dict())


# ------------------------------------------------------------ what save refuses

Point = namedtuple("Point", "x y")


@pytest.mark.parametrize("obj, where, what", [
    ({"model": nn.Linear(2, 2)}, r"obj\['model'\]", r"Linear.*save its state_dict\(\)"),
    ({"model": {"0.weight": lambda: 0}}, r"obj\['model'\]\['0.weight'\]", "function"),
    ([1, (2, object())], r"obj\[1\]\[1\]", "object"),
    ({"s": {1, 2}}, r"obj\['s'\]", "set"),
    ({"b": b"bytes"}, r"obj\['b'\]", "bytes"),
    ({"p": Point(1, 2)}, r"obj\['p'\]", "Point"),
    ({"d": defaultdict(list)}, r"obj\['d'\]", "defaultdict"),
    ({"m": np.ma.array([1.0])}, r"obj\['m'\]", "MaskedArray"),
    ({"text": np.array(["a"])}, r"obj\['text'\]", "dtype <U1"),
    ({"when": np.datetime64("2020-01-01")}, r"obj\['when'\]", "dtype datetime64"),
    ({0: {1.5: 0}}, r"obj\[0\] has the key 1.5 of type float", "keys must be str or int"),
    ({True: 0}, r"obj has the key True of type bool", "keys must be str or int"),
])
def test_unsaveable_values_are_named_by_their_place_and_nothing_is_written(tmp_path, obj, where, what):
    with pytest.raises(TypeError, match=f"{where}.*{what}|{what}.*{where}"):
        tg.save(obj, tmp_path / "never.npz")
    assert os.listdir(tmp_path) == []


def test_a_structure_that_contains_itself_is_refused(tmp_path):
    loop = {"a": [1]}
    loop["a"].append(loop)
    with pytest.raises(ValueError, match=r"obj\['a'\]\[1\] contains itself"):
        tg.save(loop, tmp_path / "never.npz")
    shared = [1.0]
    assert_identical(round_trip({"x": shared, "y": shared}, tmp_path / "shared.npz"), {"x": [1.0], "y": [1.0]})


# ------------------------------------------------------------ atomic writes

def test_save_into_a_missing_folder_names_the_folder(tmp_path):
    missing = tmp_path / "runs" / "exp1"
    with pytest.raises(FileNotFoundError, match="no such folder") as error:
        tg.save({"w": np.zeros(1)}, missing / "ckpt.npz")
    assert error.value.filename == str(missing)
    assert os.listdir(tmp_path) == []


def test_save_writes_exactly_at_path_with_open_s_permissions(tmp_path):
    tg.save({"w": np.arange(3.0)}, tmp_path / "no_suffix")
    assert os.listdir(tmp_path) == ["no_suffix"]
    with open(tmp_path / "made_by_open", "wb"):
        pass
    mode = stat.S_IMODE(os.stat(tmp_path / "no_suffix").st_mode)
    assert mode == stat.S_IMODE(os.stat(tmp_path / "made_by_open").st_mode)


def test_a_write_that_fails_midway_leaves_the_old_checkpoint_intact(tmp_path):
    resource = pytest.importorskip("resource")
    signal = pytest.importorskip("signal")
    path = tmp_path / "ckpt.npz"
    tg.save({"w": np.ones(3)}, path)
    before = path.read_bytes()
    limits = resource.getrlimit(resource.RLIMIT_FSIZE)
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, limits[1]))   # the disk is "full" after 4 KiB
    try:
        with pytest.raises(OSError, match="File too large"):
            tg.save({"w": np.zeros(100_000)}, path)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, limits)
        signal.signal(signal.SIGXFSZ, handler)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.npz"]          # the temporary file was removed


@pytest.mark.parametrize("failure", [OSError("Input/output error"), KeyboardInterrupt()])
def test_a_save_interrupted_before_the_rename_leaves_the_old_checkpoint_intact(tmp_path, monkeypatch, failure):
    path = tmp_path / "ckpt.npz"
    tg.save({"w": np.ones(3)}, path)
    before = path.read_bytes()

    def failing_fsync(fd):
        raise failure

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(type(failure)):
        tg.save({"w": np.zeros(10)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.npz"]


def test_a_refused_save_leaves_the_old_checkpoint_intact(tmp_path):
    path = tmp_path / "ckpt.npz"
    tg.save({"w": np.ones(3)}, path)
    before = path.read_bytes()
    with pytest.raises(TypeError):
        tg.save({"w": np.zeros(3), "model": nn.Linear(1, 1)}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["ckpt.npz"]


# ------------------------------------------------------------ what load refuses

def torch_like_zip(path, marker):
    """The layout of a torch.save file: archive/data.pkl (here an armed pickle) and its tensor data."""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps(ArmedPickle(marker)))
        archive.writestr("archive/byteorder", "little")
        archive.writestr("archive/data/0", np.zeros(4, np.float32).tobytes())
        archive.writestr("archive/version", "3\n")


def object_array_npz(path, marker):
    with open(path, "wb") as file:
        np.savez(file, weight=np.zeros(2), x=np.array([ArmedPickle(marker)], dtype=object))


def checkpoint_with_object_entry(path, marker):
    tg.save({"w": np.zeros(2)}, path)
    npy = io.BytesIO()
    np.save(npy, np.array([ArmedPickle(marker)], dtype=object), allow_pickle=True)
    replace_entry(path, "0.npy", npy.getvalue())


def legacy_pickle(path, marker):
    path.write_bytes(pickle.dumps({"weight": ArmedPickle(marker)}, protocol=2))


@pytest.mark.parametrize("build, found, unpickle", [
    (torch_like_zip, r"a PyTorch checkpoint \(a zip holding data.pkl",
     lambda path: pickle.loads(zipfile.ZipFile(path).read("archive/data.pkl"))),
    (object_array_npz, r"entry 'x.npy' is an object array", lambda path: np.load(path, allow_pickle=True)["x"]),
    (checkpoint_with_object_entry, r"entry '0.npy' is an object array",
     lambda path: np.load(path, allow_pickle=True)["0"]),
    (legacy_pickle, r"a pickle \(its first byte is 0x80\)", lambda path: pickle.loads(path.read_bytes())),
])
def test_armed_pickles_are_refused_and_never_run(tmp_path, build, found, unpickle):
    marker = tmp_path / "pickle_ran"
    path = tmp_path / "hostile.pt"
    build(path, marker)
    with pytest.raises(ValueError, match=rf"hostile\.pt' is not a tinygrad_bn checkpoint: .*{found}.*Expected a "
                                         r"file written by tg.save"):
        tg.load(path)
    assert not marker.exists()
    unpickle(path)                                     # what a loader that unpickles would do
    assert marker.exists()                             # so the file really was armed


@pytest.mark.parametrize("content, found", [
    (b"", "the file is empty"),
    (b"hello, world", r"not a zip archive \(it starts with b'hello, w'\)"),
    (b"PK\x03\x04 a truncated zip", "truncated or corrupt zip archive"),
])
def test_files_that_are_not_checkpoints_are_refused(tmp_path, content, found):
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match=rf"bad\.npz' is not a tinygrad_bn checkpoint: .*{found}"):
        tg.load(path)


def test_a_single_npy_and_other_zips_are_refused(tmp_path):
    np.save(tmp_path / "single.npy", np.zeros(3))
    with pytest.raises(ValueError, match=r"single\.npy'.*a single NumPy array \(\.npy\)"):
        tg.load(tmp_path / "single.npy")
    with zipfile.ZipFile(tmp_path / "notes.zip", "w") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(ValueError, match=r"notes\.zip'.*entry 'notes.txt' is not an \.npy array"):
        tg.load(tmp_path / "notes.zip")
    np.savez(tmp_path / "text.npz", names=np.array(["a", "b"]))
    with pytest.raises(ValueError, match=r"text\.npz'.*entry 'names.npy' has dtype <U1"):
        tg.load(tmp_path / "text.npz")


def test_every_truncation_and_byte_flip_is_refused_or_harmless(tmp_path):
    """Cutting the file anywhere is refused; flipping any byte is refused by name or (in
    fields zip readers ignore, such as timestamps) loads the very same checkpoint."""
    saved = {"w": np.arange(4.0, dtype=np.float32), "meta": {"epoch": 1}}
    good = tmp_path / "good.npz"
    tg.save(saved, good)
    raw = good.read_bytes()
    damaged = tmp_path / "damaged.npz"
    for cut in range(len(raw)):
        damaged.write_bytes(raw[:cut])
        with pytest.raises(ValueError, match=r"damaged\.npz' is not a tinygrad_bn checkpoint"):
            tg.load(damaged)
    refused = 0
    for position in range(len(raw)):
        flipped = bytearray(raw)
        flipped[position] ^= 0xFF
        damaged.write_bytes(bytes(flipped))
        try:
            loaded = tg.load(damaged)
        except ValueError as error:
            assert "damaged.npz' is not a tinygrad_bn checkpoint" in str(error)
            refused += 1
        else:
            assert_identical(loaded, saved)
    assert refused > len(raw) / 2


def test_a_newer_or_malformed_structure_is_refused(tmp_path):
    path = tmp_path / "ckpt.npz"
    tg.save({"w": np.zeros(2)}, path)
    structure = structure_of(path)
    replace_entry(path, "tinygrad_bn.json", json.dumps({**structure, "version": 2}))
    with pytest.raises(ValueError, match="written by a newer tinygrad_bn .checkpoint format version 2"):
        tg.load(path)
    structure["object"]["items"][0][1]["array"] = 5
    replace_entry(path, "tinygrad_bn.json", json.dumps(structure))
    with pytest.raises(ValueError, match="entry 'tinygrad_bn.json' is malformed .IndexError"):
        tg.load(path)
    replace_entry(path, "tinygrad_bn.json", "{not json")
    with pytest.raises(ValueError, match="entry 'tinygrad_bn.json' is not a tinygrad_bn structure"):
        tg.load(path)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        tg.load(tmp_path / "absent.npz")


# ------------------------------------------------------------ devices and map_location

def test_tensors_return_to_their_device_or_to_map_location(tmp_path, device):
    path = tmp_path / "d.npz"
    tg.save({"t": tg.tensor([1.0, 2.0], device=device), "array": np.arange(2)}, path)
    assert tg.load(path)["t"].device == device
    for target in ["cpu", device]:
        for loaded in [tg.load(path, map_location=target), tg.load(path, device=target)]:
            assert loaded["t"].device == target
            assert type(loaded["array"]) is np.ndarray       # NumPy values stay on the host


def test_a_checkpoint_saved_on_cuda_needs_a_gpu_or_map_location(tmp_path):
    path = tmp_path / "gpu.npz"
    tg.save({"t": tg.tensor([1.0, 2.0])}, path)
    replace_entry(path, "tinygrad_bn.json", json.dumps(structure_of(path)).replace('"cpu"', '"cuda"'))
    assert tg.load(path, map_location="cpu")["t"].device == "cpu"
    if "cuda" in tg.available_devices():
        assert tg.load(path)["t"].device == "cuda"
    else:
        with pytest.raises(RuntimeError, match=r"gpu\.npz' holds Tensors saved on 'cuda'.*map_location='cpu'"):
            tg.load(path)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"map_location": lambda storage, location: storage}, TypeError, "is not supported; give a device name"),
    ({"map_location": {"cuda:0": "cpu"}}, TypeError, "is not supported; give a device name"),
    ({"map_location": "tpu"}, ValueError, "unknown device 'tpu'"),
    ({"map_location": "cpu", "device": "cpu"}, TypeError, "give map_location or device, not both"),
])
def test_unsupported_map_locations_are_refused(tmp_path, kwargs, error, message):
    path = tmp_path / "c.npz"
    tg.save({"w": np.zeros(1)}, path)
    with pytest.raises(error, match=message):
        tg.load(path, **kwargs)


def test_weights_only_is_accepted_and_changes_nothing(tmp_path):
    path = tmp_path / "c.npz"
    saved = {"w": tg.tensor([1.0]), "n": 3}
    tg.save(saved, path)
    for weights_only in (True, False):
        assert_identical(tg.load(path, weights_only=weights_only), saved)
