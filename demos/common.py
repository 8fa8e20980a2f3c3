"""What every demo shares: its command line, data, twin ResNets, progress line, JSON record and figure style.

Each demo is ``python demos/<name>.py`` with at least ``--out``, ``--seed``,
``--device`` and ``--quick``, and writes one PNG and one JSON into ``--out``.
The JSON holds ``config`` (every flag, the seed included), ``versions`` and the
demo's numbers, so a figure can always be traced back to the run that made it.
"""
import argparse
import json
import math
import platform
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

import tinygrad_bn as tg
import tinygrad_bn.functional as F
from tinygrad_bn import data, models, nn, optim
from tinygrad_bn.optim.lr_scheduler import MultiStepLR

# One look for "without BN" and one for "with BN" in every figure, so a reader
# who has learnt it on one figure reads every other one the same way.
STYLE = {
    "plain": {"color": "tab:red", "linestyle": "--", "label": "without BN"},
    "bn": {"color": "tab:blue", "linestyle": "-", "label": "with BN"},
}
DATASETS = ("auto", "mnist", "mnist-t10k", "digits")
IMAGE_DATASETS = ("auto", "cifar10", "mnist", "mnist-t10k", "digits")
IMAGE_AUTO = "auto: CIFAR-10 when it is found under the data root, else MNIST, else the MNIST test set, else digits"
# One BLAS thread: the demos' matrices are small (batch 60 by a few hundred
# units), so a second thread gains little even on an idle machine, and on a
# busy one threads waiting for a core another program holds slow every step
# down, several times over (the figures: docs/backends.md, "CPU threads").
DEFAULT_THREADS = 1
# Ioffe (2017) trains Batch Renorm as BatchNorm for its first 5,000 steps, then relaxes rmax to its
# limit by 40,000 steps and dmax by 25,000; the demos read each 5,000 of his steps as one epoch.
RENORM_WARMUP_EPOCHS = {"bn": 1, "rmax": 8, "dmax": 5}
# Wu & He (and the ResNet recipe) divide the learning rate by 10 at epochs 30, 60 and 90 of 100.
LR_DROPS = (0.3, 0.6, 0.9)


def style(name, **changes):
    """The line style of ``"plain"`` or ``"bn"``, with ``changes`` (a marker, another label) on top."""
    return {**STYLE[name], **changes}


class DemoParser(argparse.ArgumentParser):
    """The demos' argument parser: parsing also applies ``--threads``, so every
    demo runs with the BLAS threads its config records, without a line of its own."""

    def parse_args(self, args=None, namespace=None):
        parsed = super().parse_args(args, namespace)
        require_at_least(self, parsed, ("threads",), 1)
        tg.set_num_threads(parsed.threads)
        return parsed


def demo_parser(description, default_out):
    """An argument parser with the flags every demo has."""
    parser = DemoParser(description=description, formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--out", default=default_out, help="folder for the PNG and the JSON")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                        help="threads for the CPU's matrix products (BLAS); see docs/backends.md, CPU threads")
    parser.add_argument("--quick", action="store_true", help="a short run, for smoke tests")
    parser.add_argument("--no-progress", action="store_true", help="no progress line on stderr")
    return parser


def add_dataset_flags(parser, default="auto", choices=DATASETS,
                      auto="auto: MNIST when its four files are found under the data root, else digits"):
    """``--dataset`` and ``--data-root``, the same in every demo that trains on digits, MNIST (or CIFAR-10);
    ``auto`` says what ``--dataset auto`` picks in this demo."""
    parser.add_argument("--dataset", choices=choices, default=default,
                        help=f"{auto}; mnist-t10k: the official 10,000-image MNIST test set split 8,000/2,000")
    parser.add_argument("--data-root", default=None,
                        help="where MNIST (and CIFAR-10) files are looked for "
                             "(default: $TINYGRAD_BN_DATA, else the user cache)")


def load_dataset(name, root=None, seed=0):
    """(train, test, description) for ``--dataset``; ``auto`` says which it chose."""
    if name == "auto":
        name = "mnist" if data.mnist_available(root, train=True) and data.mnist_available(root, train=False) \
            else "digits"
        print(f"--dataset auto: using {name}"
              + ("" if name == "mnist" else " (MNIST files not found under the data root; "
                                            "`python -m tinygrad_bn.data download mnist` fetches them)"))
    if name == "mnist":
        train, test = data.MNIST(root, train=True), data.MNIST(root, train=False)
        note = "MNIST (60,000 training / 10,000 test images, 28x28)"
    elif name == "mnist-t10k":
        full = data.MNIST(root, train=False)
        order = np.random.default_rng(seed).permutation(len(full.labels))
        train = data.ArrayDataset(full.images[order[:8000]], full.labels[order[:8000]])
        test = data.ArrayDataset(full.images[order[8000:]], full.labels[order[8000:]])
        note = ("the official MNIST test set (10,000 images, 28x28) split 8,000 train / 2,000 test "
                f"by a permutation with seed {seed}; NOT the 60,000-image MNIST training set")
    else:
        train, test = data.Digits(train=True), data.Digits(train=False)
        note = "scikit-learn's handwritten digits (1,797 images, 8x8), NOT MNIST"
    description = {"name": name, "description": note, "train_size": len(train.labels),
                   "test_size": len(test.labels), "input_features": int(train.images[0].size)}
    return train, test, description


def load_image_dataset(name, root=None, seed=0):
    """(train, test, description) for the convolutional demos: images (N, C, H, W), each channel
    standardised with the training split's mean and std (as CIFAR-10 usually is).

    ``auto`` takes CIFAR-10 when it is found under the data root, else MNIST
    (both splits), else the 8,000/2,000 split of the MNIST test set, else the
    digits, and says which; the grey images of ``load_dataset`` become
    (N, 1, side, side) with the same pixels.
    """
    if name == "auto":
        name = ("cifar10" if data.cifar10_available(root) else
                "mnist" if data.mnist_available(root, train=True) and data.mnist_available(root, train=False) else
                "mnist-t10k" if data.mnist_available(root, train=False) else "digits")
        print(f"--dataset auto: using {name}" + ("" if name == "cifar10" else
              " (CIFAR-10 not found under the data root; `python -m tinygrad_bn.data download cifar10` fetches it)"))
    if name == "cifar10":
        train, test = data.CIFAR10(root, train=True), data.CIFAR10(root, train=False)
        description = {"name": name, "description": "CIFAR-10 (50,000 training / 10,000 test colour images, 32x32)",
                       "train_size": len(train.labels), "test_size": len(test.labels)}
    else:
        train, test, description = load_dataset(name, root, seed)
        train, test = grey_images(train), grey_images(test)
    scaler = data.Standardize(per_channel=True).fit(train.images)
    train, test = (data.ArrayDataset(scaler.transform(split.images), split.labels) for split in (train, test))
    description.update(image_shape=list(train.images.shape[1:]), input_features=int(train.images[0].size),
                       preprocessing="each channel standardised with the training split's mean and std")
    return train, test, description


def grey_images(dataset):
    """Flat grey images (N, side * side) as images (N, 1, side, side): the same pixels."""
    count, pixels = dataset.images.shape
    side = math.isqrt(pixels)
    return data.ArrayDataset(dataset.images.reshape(count, 1, side, side), dataset.labels)


def seeded_subset(dataset, size, seed):
    """The first ``size`` examples of ``dataset`` in a permutation drawn with ``seed`` (all of them if size is None)."""
    order = np.random.default_rng(seed).permutation(len(dataset.labels))[:size]
    return data.ArrayDataset(dataset.images[order], dataset.labels[order])


def twin_resnets(depth, width, in_channels, classes):
    """He et al.'s CIFAR ResNet (``models.ResNet``, He-normal weights) without BN and with BatchNorm2d,
    from the same initial weights: the BN twin takes the plain one's, so the two differ only by the
    normalization (and the plain one's zero convolution biases, which stand in for BN's beta)."""
    plain = models.ResNet(depth, classes, in_channels, norm=None, width=width)
    bn = models.ResNet(depth, classes, in_channels, norm=nn.BatchNorm2d, width=width)
    for (_, a), (_, b) in zip(plain.weighted_layers(), bn.weighted_layers()):
        b.weight.data[...] = a.weight.data
    bn.fc.bias.data[...] = plain.fc.bias.data
    return {"plain": plain, "bn": bn}


@contextmanager
def restored(net):
    """Run a block, then write every parameter and buffer of ``net`` back, bit for bit, in place."""
    tensors = [t for t in [*net.parameters(), *net.buffers()] if t is not None]
    saved = [t.detach().clone() for t in tensors]
    try:
        yield
    finally:
        for tensor, array in zip(tensors, saved):
            tensor.data[...] = array


def standardized(train, test, as_images=False):
    """The training and test sets' flat grey images shifted and scaled by the training set's pixel mean
    and std (one number each: the per-channel normalisation of the ResNet recipes), kept flat or as
    (N, 1, side, side) images for a conv net."""
    mean, std = float(train.images.mean()), float(train.images.std())

    def scaled(dataset):
        flat = data.ArrayDataset(((dataset.images - mean) / std).astype(np.float32), dataset.labels)
        return grey_images(flat) if as_images else flat
    return scaled(train), scaled(test)


def iid_batches(count, batch_size, seed):
    """A seeded permutation of ``count`` examples cut into count // batch_size batches of
    batch_size or batch_size + 1 examples (so no batch is too small for batch statistics)."""
    order = np.random.default_rng(seed).permutation(count)
    return np.array_split(order, max(count // batch_size, 1))


@tg.no_grad()
def batch_logits(net, dataset, device, batches=None):
    """(rows, logits) of ``dataset``: every example in eval mode (``batches=None``), or in train mode the
    examples of each batch of indices in ``batches``, normalised with that batch's statistics, every
    parameter and buffer (running statistics, batch counts) restored afterwards; the net is left in
    train mode either way."""
    if batches is None:
        net.eval()
        batches = [np.arange(len(dataset.labels))]
    else:
        net.train()
    with restored(net):
        logits = [net(tg.tensor(dataset.images[rows], device=device)).detach().cpu().numpy() for rows in batches]
    net.train()
    return np.concatenate(batches), np.concatenate(logits)


def accuracy(net, dataset, device, batches=None):
    """Fraction of ``dataset`` classified correctly, in eval mode or with the statistics of ``batches``
    (as ``batch_logits``)."""
    rows, logits = batch_logits(net, dataset, device, batches)
    return float(np.mean(logits.argmax(axis=1) == dataset.labels[rows]))


def renorm_warmup(steps_per_epoch):
    """Ioffe's warm-up of Batch Renorm's limits (``RENORM_WARMUP_EPOCHS``) in steps of this training."""
    return nn.RenormWarmup(**{f"{limit}_steps": epochs * steps_per_epoch
                              for limit, epochs in RENORM_WARMUP_EPOCHS.items()})


def mlp(norm, in_features, hidden, layers, classes):
    """(Linear -> norm -> ReLU) x ``layers`` -> Linear, ``hidden`` units wide; ``norm(features)`` makes a
    normalization layer, or is None for none.  A normalised layer's Linear has no bias: the
    normalization removes it and its beta takes its place."""
    blocks, width = [], in_features
    for _ in range(layers):
        blocks.append(nn.Linear(width, hidden, bias=norm is None))
        blocks += [] if norm is None else [norm(hidden)]
        blocks.append(nn.ReLU())
        width = hidden
    return nn.Sequential(*blocks, nn.Linear(width, classes))


def lr_drop_epochs(epochs):
    """The epochs after which the learning rate drops tenfold: ``LR_DROPS`` of ``epochs``."""
    return sorted({max(1, round(fraction * epochs)) for fraction in LR_DROPS if round(fraction * epochs) < epochs})


def train(net, batches, lr, epochs, momentum, weight_decay, on_epoch=None):
    """SGD for ``epochs`` passes over ``batches`` (re-iterated every epoch, yielding (images, labels)
    Tensors: a DataLoader), the learning rate divided by 10 at ``lr_drop_epochs``, ``on_epoch(epoch)``
    called after each.  Returns the mean training loss of each epoch and the first epoch whose loss
    was not finite (then training stops there), or None."""
    sgd = optim.SGD(net.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    schedule = MultiStepLR(sgd, milestones=lr_drop_epochs(epochs), gamma=0.1)
    losses = []
    net.train()
    for epoch in range(epochs):
        seen = []
        for images, labels in batches:
            loss = F.cross_entropy(net(images), labels)
            sgd.zero_grad()
            loss.backward()
            sgd.step()
            seen.append(loss.detach())
        mean = tg.stack(seen).double().mean().item()
        losses.append(mean if np.isfinite(mean) else None)
        schedule.step()
        if on_epoch is not None:
            on_epoch(epoch)
        if not np.isfinite(mean):
            return losses, epoch
    return losses, None


def require_at_least(parser, args, names, minimum):
    """Stop with a usage error when any of the integer flags ``names`` is below ``minimum``."""
    for name in names:
        if getattr(args, name) < minimum:
            parser.error(f"--{name.replace('_', '-')} must be at least {minimum}, got {getattr(args, name)}")


def versions():
    """The versions that produced a result."""
    return {"python": platform.python_version(), "numpy": np.__version__,
            "tinygrad_bn": tg.__version__, "platform": platform.platform()}


def write_json(path, config, results):
    """Write ``{"config": ..., "versions": ..., **results}`` to ``path`` (indented, stable order)."""
    record = {"config": dict(config), "versions": versions(), **results}
    Path(path).write_text(json.dumps(record, indent=1))
    return record


def save_run(out, name, config, results, plot):
    """Write ``<out>/<name>.json`` (config, versions, results) and the figure
    ``<out>/<name>.png`` drawn by ``plot(record, path)``; return the record."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    record = write_json(out / f"{name}.json", config, results)
    plot(record, out / f"{name}.png")
    print(f"wrote {out / name}.png and {out / name}.json")
    return record


def save_figure(fig, path, dpi=120, rect=None):
    """Lay the figure out, write it as a PNG and free it."""
    fig.tight_layout(**({} if rect is None else {"rect": rect}))
    fig.savefig(path, dpi=dpi)
    pyplot().close(fig)


def pyplot():
    """matplotlib.pyplot on the file-only Agg backend (no screen needed)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


class Progress:
    """A progress line on stderr: ``[####   ] 120/600  text  eta 3s``.

    On a terminal the line is rewritten in place.  When stderr is a file or a
    pipe (a log, CI), carriage returns would pile up into one endless line, so
    a new line is printed every ``percent_step`` percent instead.
    """

    def __init__(self, total, enabled=True, stream=None, percent_step=5):
        self.total, self.enabled, self.start = total, enabled, time.perf_counter()
        self.stream = sys.stderr if stream is None else stream
        self.in_place = self.stream.isatty()
        self.step, self.next_report = percent_step / 100, 0.0
        self.done = 0

    def update(self, done, text=""):
        self.done = done
        if not self.enabled:
            return
        fraction = done / self.total
        if not self.in_place and fraction < self.next_report and done < self.total:
            return
        self.next_report = (np.floor(fraction / self.step) + 1) * self.step
        elapsed = time.perf_counter() - self.start
        eta = elapsed / fraction - elapsed if fraction > 0 else float("nan")
        line = f"[{'#' * int(30 * fraction):<30}] {done}/{self.total}  {text}  eta {eta:4.0f}s"
        if self.in_place:
            print(f"\r{line} ", end="", file=self.stream, flush=True)
        else:
            print(line, file=self.stream, flush=True)

    def advance(self, text=""):
        """One more step done: ``update`` with the count so far plus one."""
        self.update(self.done + 1, text)

    def close(self):
        if self.enabled and self.in_place:
            print(file=self.stream)
