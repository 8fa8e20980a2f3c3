"""A student's PyTorch tutorial code, run unchanged but for the imports, under torch and
under tinygrad_bn from the same initial weights: the same losses, accuracy, checkpoint
round trip and manual-SGD result.  (Skipped where torch is not installed; every piece
is also tested on its own without torch elsewhere in the suite.)"""
import numpy as np
import pytest

import tinygrad_bn as tg

# The script, exactly as it would be written for PyTorch.  It only sees the names
# torch, nn, F and optim, bound to one library or the other.
TUTORIAL = '''
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 16)
        self.bn1 = nn.BatchNorm1d(16)
        self.fc2 = nn.Linear(16, 16)
        self.drop = nn.Dropout(0.0)
        self.fc3 = nn.Linear(16, 3)

    def forward(self, x):
        x = F.relu(self.bn1(self.fc1(x)))
        x = torch.tanh(self.fc2(x))
        return self.fc3(self.drop(x))


def train(model, X, y, path, epochs=4, batch=8):
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    loss_fn = nn.CrossEntropyLoss()
    log = []
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for i in range(0, len(X), batch):
            xb, yb = X[i:i + batch], y[i:i + batch]
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(xb)
        scheduler.step()
        log.append(f"epoch {epoch}: loss {total / len(X):.5f}")
    torch.save({"epoch": epochs, "model": model.state_dict(), "optimizer": optimizer.state_dict()}, path)
    model.eval()
    with torch.no_grad():
        logits = model(X)
        accuracy = (logits.argmax(dim=1) == y).float().mean().item()
        probabilities = F.softmax(logits, dim=1)
    return log, accuracy, probabilities


def evaluate(model, X, y, batch=10):
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=batch)
    size, correct, total = len(loader.dataset), 0, 0.0
    model.eval()
    with torch.no_grad():
        for i, (xb, yb) in enumerate(loader):
            pred = model(xb)
            total += F.cross_entropy(pred, yb, reduction="sum").item()
            correct += (pred.argmax(1) == yb).type(torch.float).sum().item()
    return len(loader), i + 1, correct / size, total / size


def resume(model, path, X, y):
    checkpoint = torch.load(path)
    model.load_state_dict(checkpoint["model"])
    optimizer = optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    optimizer.load_state_dict(checkpoint["optimizer"])
    model.train()
    optimizer.zero_grad()
    loss = F.cross_entropy(model(X), y)
    loss.backward()
    optimizer.step()
    return checkpoint["epoch"], loss.item()


def manual_sgd(X, y, w, b, steps=25, lr=0.05):
    w = w.clone().requires_grad_(True)
    b = b.clone().requires_grad_(True)
    for _ in range(steps):
        loss = ((X @ w + b - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
            w.grad.zero_()
            b.grad.zero_()
    return w.detach(), b.detach(), loss.item()
'''


def run(library, torch_weights, data, path):
    """Execute TUTORIAL with ``library``'s names; the model starts from ``torch_weights``."""
    names = {"torch": library, "nn": library.nn, "F": library.nn.functional, "optim": library.optim}
    exec(TUTORIAL, names)
    X, y, targets, w0, b0 = (library.tensor(a) for a in data)
    model = names["Net"]()
    model.load_state_dict({k: library.tensor(v) for k, v in torch_weights.items()})
    log, accuracy, probabilities = names["train"](model, X, y, path)
    evaluation = names["evaluate"](model, X, y)
    resumed = names["resume"](names["Net"](), path, X, y)
    manual = names["manual_sgd"](X, targets, w0, b0)
    return (log, accuracy, probabilities.numpy(), evaluation, resumed,
            [m if isinstance(m, float) else m.numpy() for m in manual])


def test_the_same_script_gives_pytorchs_numbers(tmp_path):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((48, 4)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 1).astype(np.int64)
    targets = (X @ np.array([[1.0], [-2.0], [0.5], [0.0]], dtype=np.float32) + 0.3).astype(np.float32)
    w0, b0 = np.zeros((4, 1), np.float32), np.zeros(1, np.float32)
    data = (X, y, targets, w0, b0)

    torch.manual_seed(0)
    names = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional, "optim": torch.optim}
    exec(TUTORIAL, names)
    weights = {k: v.numpy().copy() for k, v in names["Net"]().state_dict().items()}

    theirs = run(torch, weights, data, str(tmp_path / "torch.pt"))
    ours = run(tg, weights, data, str(tmp_path / "tinygrad_bn.pt"))

    their_log, their_accuracy, their_probabilities, their_evaluation, their_resumed, their_manual = theirs
    our_log, our_accuracy, our_probabilities, our_evaluation, our_resumed, our_manual = ours
    assert our_log == their_log                                  # the printed losses, to 5 decimals
    assert our_accuracy == their_accuracy and 0.6 < our_accuracy
    np.testing.assert_allclose(our_probabilities, their_probabilities, rtol=1e-4, atol=1e-6)
    assert our_evaluation[:3] == their_evaluation[:3]            # 48 examples in batches of 10: 5 of them
    assert our_evaluation[:2] == (5, 5) and our_evaluation[2] == pytest.approx(our_accuracy)
    assert our_evaluation[3] == pytest.approx(their_evaluation[3], rel=1e-5)
    assert our_resumed[0] == their_resumed[0] == 4
    assert our_resumed[1] == pytest.approx(their_resumed[1], rel=1e-4)
    for mine, reference in zip(our_manual, their_manual):
        np.testing.assert_allclose(mine, reference, rtol=1e-4, atol=1e-6)


def test_pytorchs_import_spellings_work():
    import tinygrad_bn.nn.functional as F
    import tinygrad_bn.functional
    from tinygrad_bn.nn.functional import cross_entropy
    assert F is tinygrad_bn.functional and tg.nn.functional is F and cross_entropy is F.cross_entropy
    assert tg.optim.lr_scheduler.StepLR and tg.nn.init.kaiming_uniform_ and tg.autograd.grad
