"""Weights move between PyTorch and tinygrad_bn with the two documented lines
(state-dict names are the same), and the two models then agree: outputs in train and
eval mode, BatchNorm's running statistics and num_batches_tracked.  A torch.save file
is refused by tg.load, and converts with one line where PyTorch is installed."""
import numpy as np
import pytest

import tinygrad_bn as tg
from tinygrad_bn import nn

torch = pytest.importorskip("torch")


def tinygrad_model():
    return nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5), nn.Sigmoid(), nn.Linear(5, 3))


def torch_model():
    return torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.BatchNorm1d(5), torch.nn.Sigmoid(),
                               torch.nn.Linear(5, 3))


def batches(seed, count=3):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((8, 6)) * 2 + 1).astype(np.float32) for _ in range(count)]


def run_tinygrad(model, x):
    return model(tg.tensor(x)).detach().numpy()


def run_torch(model, x):
    with torch.no_grad():
        return model(torch.from_numpy(x)).numpy()


def assert_states_equal(ours, theirs, exact):
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for name, value in theirs.state_dict().items():
        mine = ours.state_dict()[name].numpy()
        assert mine.dtype == value.numpy().dtype and mine.shape == value.numpy().shape, name
        if exact:
            np.testing.assert_array_equal(mine, value.numpy(), err_msg=name)
        else:
            np.testing.assert_allclose(mine, value.numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


def assert_same_behaviour(ours, theirs):
    """Same outputs in eval mode, then in train mode over batches that move the running
    statistics; afterwards the whole state (running stats, num_batches_tracked) agrees."""
    ours.eval(), theirs.eval()
    for x in batches(seed=3):
        np.testing.assert_allclose(run_tinygrad(ours, x), run_torch(theirs, x), rtol=1e-5, atol=1e-6)
    ours.train(), theirs.train()
    for x in batches(seed=4):
        np.testing.assert_allclose(run_tinygrad(ours, x), run_torch(theirs, x), rtol=1e-5, atol=1e-6)
    assert_states_equal(ours, theirs, exact=False)
    assert ours.state_dict()["1.num_batches_tracked"].item() == theirs.state_dict()["1.num_batches_tracked"].item()


def randomise(state_values):
    """Every float value of a state dict set to random numbers (in place), so that a value
    left behind in the transfer cannot agree by chance with a default."""
    rng = np.random.default_rng(5)
    for array in state_values:
        if array.dtype.kind == "f":
            array[...] = rng.uniform(0.5, 1.5, array.shape).astype(array.dtype)


def test_weights_from_torch_to_tinygrad_bn():
    torch.manual_seed(0)
    theirs = torch_model().train()
    randomise([v.numpy() for v in theirs.state_dict().values()])
    for x in batches(seed=2):                          # running stats and num_batches_tracked move
        run_torch(theirs, x)
    ours = tinygrad_model()
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert_states_equal(ours, theirs, exact=True)
    assert_same_behaviour(ours, theirs)


def test_weights_from_tinygrad_bn_to_torch():
    tg.manual_seed(0)
    ours = tinygrad_model().train()
    randomise([v.numpy() for v in ours.state_dict().values()])
    for x in batches(seed=2):
        run_tinygrad(ours, x)
    theirs = torch_model()
    theirs.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in ours.state_dict().items()})
    assert_states_equal(ours, theirs, exact=True)
    assert_same_behaviour(ours, theirs)


def test_a_torch_save_file_is_refused_and_converts_with_one_line(tmp_path):
    torch.manual_seed(0)
    theirs = torch_model()
    pt = tmp_path / "model.pt"
    torch.save(theirs.state_dict(), pt)
    with pytest.raises(ValueError, match=r"model\.pt' is not a tinygrad_bn checkpoint: it is a PyTorch checkpoint"):
        tg.load(pt)
    legacy = tmp_path / "legacy.pt"
    torch.save(theirs.state_dict(), legacy, _use_new_zipfile_serialization=False)
    with pytest.raises(ValueError, match=r"legacy\.pt' is not a tinygrad_bn checkpoint: it is a pickle"):
        tg.load(legacy)

    tg.save({k: v.numpy() for k, v in torch.load(pt).items()}, tmp_path / "model.npz")
    ours = tinygrad_model()
    ours.load_state_dict(tg.load(tmp_path / "model.npz"))
    assert_states_equal(ours, theirs, exact=True)
