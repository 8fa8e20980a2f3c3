"""Small batches: the test error of BN and of its replacements against the batch size (Wu & He 2018, Figure 1).

    python demos/small_batch.py                 # an MLP on the 8x8 digits, batch sizes 2 to 64 (about 30 s)
    python demos/small_batch.py --arch resnet   # the conv net: ResNet-8 on the same digits (about 5 minutes)
    python demos/small_batch.py --dataset mnist-t10k    # the MLP on 28x28 MNIST images (about 3 minutes)
    python demos/small_batch.py --quick         # a short smoke run

Wu & He ("Group Normalization", ECCV 2018, section 4.1, Figure 1 and Table 2)
train ResNet-50 on ImageNet with 32, 16, 8, 4 and 2 images per GPU, BN's
statistics computed per GPU; BN's validation error rises from 23.6% at 32 to
27.3% at 4 and 34.7% at 2, while GroupNorm's stays at 24.1-24.2%.  Their rule
for the batch size N: "we use a learning rate of 0.1 for the batch size of 32,
and 0.1N/32 for a batch size of N", "the same number of training epochs for
all cases", every other hyper-parameter unchanged: SGD, weight decay 1e-4 on
every weight layer including gamma and beta, 100 epochs with the learning rate
divided by 10 at epochs 30, 60 and 90, each residual block's last
normalization layer starting at gamma = 0.

The demo reruns that experiment at the scale of a CPU: the same network and
data trained with batch sizes 2, 4, 8, 16, 32 and 64 under five
normalizations, every other setting Wu & He's:

* ``plain``: no normalization (each layer then has a bias);
* ``bn``: BatchNorm (momentum 0.1, PyTorch's);
* ``batch_renorm``: Batch Renorm with Wu & He's rmax = 1.5, dmax = 0.5, after
  Ioffe's (2017) warm-up (BatchNorm for the first 5,000 steps, the limits
  reached at 25,000 and 40,000 steps) with each 5,000 steps read as one epoch;
* ``group_norm``: GroupNorm with ``--groups`` (4) groups;
* ``layer_norm``: GroupNorm with one group, which is LayerNorm over all of a
  sample's features with a per-channel affine map: the LN of Wu & He's
  comparison ("GN becomes LN if we set the group number as G = 1").

What is scaled down, and why: the data are scikit-learn's 1,437 training and
360 test 8x8 digits (always present, so the default runs offline) instead of
ImageNet, without data augmentation; 10 epochs (learning rate divided by 10
after epochs 3, 6 and 9, Wu & He's 30/60/90 of 100) instead of 100; SGD
momentum 0.9 (the ResNet recipe Wu & He follow; their text does not restate
it); one process, so the "batch per GPU" is the whole batch.  Two networks:

* ``--arch mlp`` (default): 64 -> 100 -> 100 -> 10 with ReLU, the
  normalization before each ReLU (BatchNorm1d, BatchRenorm1d, GroupNorm over
  the 100 features).  Each hidden unit's batch statistics come from N values,
  as in a conv net's last stage with few pixels.  About 30 seconds on one thread.
* ``--arch resnet``: the library's CIFAR ResNet of depth 8 (``models.ResNet(8,
  width=16)``: conv, three residual blocks of 16, 32 and 64 channels on maps of
  8, 4 and 2 pixels) instead of ResNet-50, GroupNorm with 4 groups instead of
  32 (the first stage has 16 channels).  About 5 minutes on one thread (the
  batch-2 runs take most of it: 718 steps per epoch).  On digits this net
  reaches 0.3-2% error under every normalization at every batch size: the
  task is too easy for BN's noisy statistics to cost accuracy.

For every run the JSON holds the test error after the last epoch in eval mode
(BN: its running averages), the training loss of each epoch, and for BN also
the test error in train mode, normalised with the statistics of i.i.d. test
batches of the training batch size: the function the network was trained as.
"""
import functools
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):        # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tinygrad_bn as tg                      # noqa: E402
from tinygrad_bn import data, models, nn    # noqa: E402
from demos.common import (Progress, accuracy, add_dataset_flags, demo_parser, iid_batches, load_dataset,  # noqa: E402
                          lr_drop_epochs, mlp, pyplot, renorm_warmup, require_at_least, save_figure, save_run,
                          standardized, style, train)

NAME = "small_batch"
ARCHITECTURES = ("mlp", "resnet")
NORMALIZATIONS = ("plain", "bn", "batch_renorm", "group_norm", "layer_norm")
LABELS = {"plain": "no normalization", "bn": "BatchNorm", "batch_renorm": "Batch Renorm",
          "group_norm": "GroupNorm", "layer_norm": "LayerNorm (GroupNorm, G = 1)"}
COLORS = {"batch_renorm": "tab:orange", "group_norm": "tab:green", "layer_norm": "tab:purple"}
BATCH_SIZES = (2, 4, 8, 16, 32, 64)
REFERENCE_BATCH = 32                 # Wu & He: lr 0.1 at batch 32, 0.1 N / 32 at batch N


def parse_args(argv=None):
    p = demo_parser(__doc__.split("\n\n")[0], f"runs/{NAME}")
    add_dataset_flags(p, default="digits")
    p.add_argument("--batch-sizes", type=int, nargs="+", default=list(BATCH_SIZES))
    p.add_argument("--normalizations", nargs="+", choices=NORMALIZATIONS, default=list(NORMALIZATIONS))
    p.add_argument("--epochs", type=int, default=10, help="the same for every batch size")
    p.add_argument("--lr", type=float, default=0.1, help=f"learning rate at batch {REFERENCE_BATCH}; N/32 of it at N")
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=1e-4, help="on every parameter, gamma and beta included")
    p.add_argument("--arch", choices=ARCHITECTURES, default="mlp")
    p.add_argument("--hidden", type=int, default=100, help="mlp: units per hidden layer")
    p.add_argument("--layers", type=int, default=2, help="mlp: hidden layers")
    p.add_argument("--depth", type=int, default=8, help="resnet: depth of the CIFAR ResNet (6n + 2)")
    p.add_argument("--width", type=int, default=16, help="resnet: channels of the first stage (then 2x and 4x)")
    p.add_argument("--groups", type=int, default=4, help="GroupNorm's groups in every layer")
    p.add_argument("--rmax", type=float, default=1.5, help="Batch Renorm's limit on r (Wu & He's choice)")
    p.add_argument("--dmax", type=float, default=0.5, help="Batch Renorm's limit on d (Wu & He's choice)")
    p.add_argument("--train-size", type=int, default=None, help="train on the first N training images only")
    args = p.parse_args(argv)
    if min(args.batch_sizes) < 2:
        p.error("--batch-sizes must be at least 2: BatchNorm cannot train on one example")
    if args.lr <= 0 or args.momentum < 0 or args.weight_decay < 0:
        p.error(f"--lr must be positive and --momentum, --weight-decay non-negative, got {args.lr}, "
                f"{args.momentum}, {args.weight_decay}")
    if args.quick:
        args.batch_sizes, args.epochs = [2, 32], min(args.epochs, 3)
        if args.arch == "resnet":
            args.train_size = min(args.train_size or 400, 400)
    require_at_least(p, args, ("epochs", "hidden", "layers", "depth", "width", "groups"), 1)
    if args.train_size is not None and args.train_size < max(args.batch_sizes):
        p.error(f"--train-size {args.train_size} holds no batch of {max(args.batch_sizes)}: give at least "
                f"{max(args.batch_sizes)} images")
    channels = args.hidden if args.arch == "mlp" else args.width
    if channels % args.groups:
        p.error(f"--{'hidden' if args.arch == 'mlp' else 'width'} {channels} must be a multiple of --groups "
                f"{args.groups}")
    return args


# ---------------------------------------------------------------------- data and networks
def prepared_data(args):
    """(train, test, data set record) for ``--arch``, the training set cut to ``--train-size``."""
    train, test, dataset = load_dataset(args.dataset, args.data_root, args.seed)
    if args.train_size is not None:
        train = data.ArrayDataset(train.images[:args.train_size], train.labels[:args.train_size])
        dataset = {**dataset, "train_size": len(train.labels)}
    return (*standardized(train, test, as_images=args.arch == "resnet"), dataset)


def normalization(name, groups=4, rmax=1.5, dmax=0.5, steps_per_epoch=1, momentum=0.1, conv=True):
    """``norm(channels)`` making the layers of a normalization's name (None: no normalization): BatchNorm2d
    and BatchRenorm2d for a conv net, BatchNorm1d and BatchRenorm1d for an MLP; GroupNorm takes both."""
    if name == "plain":
        return None
    if name == "bn":
        return functools.partial(nn.BatchNorm2d if conv else nn.BatchNorm1d, momentum=momentum)
    if name == "batch_renorm":
        return functools.partial(nn.BatchRenorm2d if conv else nn.BatchRenorm1d, momentum=momentum, rmax=rmax,
                                 dmax=dmax, warmup=renorm_warmup(steps_per_epoch))
    if name == "group_norm":
        return lambda channels: nn.GroupNorm(groups, channels)
    if name == "layer_norm":
        return lambda channels: nn.GroupNorm(1, channels)
    raise ValueError(f"unknown normalization {name!r}, expected one of {NORMALIZATIONS}")


def resnet(norm, depth, width, classes):
    """The CIFAR ResNet on grey images, each residual block's last normalization layer starting at
    gamma = 0 (Goyal et al. 2017, as Wu & He), so that every block starts as its shortcut."""
    net = models.ResNet(depth, num_classes=classes, in_channels=1, norm=norm, width=width)
    for stage in (net.layer1, net.layer2, net.layer3):
        for block in stage:
            if getattr(block.bn2, "weight", None) is not None:
                nn.init.zeros_(block.bn2.weight)
    return net


def network(name, args, steps_per_epoch, in_features, classes):
    """The ``--arch`` network under normalization ``name``, on ``args.device``."""
    conv = args.arch == "resnet"
    norm = normalization(name, args.groups, args.rmax, args.dmax, steps_per_epoch, conv=conv)
    net = resnet(norm, args.depth, args.width, classes) if conv else mlp(norm, in_features, args.hidden,
                                                                              args.layers, classes)
    return net.to(args.device)


# ---------------------------------------------------------------------- training and evaluation
def learning_rate(base_lr, batch_size):
    """Wu & He's linear scaling rule: base_lr at batch 32, base_lr * N / 32 at batch N."""
    return base_lr * batch_size / REFERENCE_BATCH


def test_error(net, dataset, device, batch_statistics=None, seed=0):
    """Fraction of ``dataset`` misclassified: in eval mode (batch_statistics=None), or in train mode
    normalised with the statistics of i.i.d. batches of that size."""
    batches = None if batch_statistics is None else iid_batches(len(dataset.labels), batch_statistics, seed)
    return 1.0 - accuracy(net, dataset, device, batches)


# ---------------------------------------------------------------------- the run
def run(args):
    train_set, test_set, dataset = prepared_data(args)
    classes = int(max(train_set.labels.max(), test_set.labels.max())) + 1
    steps = {batch: len(train_set.labels) // batch for batch in args.batch_sizes}
    progress = Progress(len(args.normalizations) * len(args.batch_sizes) * args.epochs, not args.no_progress)
    results = {"dataset": dataset, "batch_sizes": args.batch_sizes, "normalizations": args.normalizations,
               "learning_rates": {str(b): learning_rate(args.lr, b) for b in args.batch_sizes},
               "steps_per_epoch": {str(b): steps[b] for b in args.batch_sizes},
               "lr_drop_epochs": lr_drop_epochs(args.epochs)}
    started, done = time.perf_counter(), 0
    for name in args.normalizations:
        record = {"test_error": [], "train_loss": [], "diverged_epoch": []}
        if name == "bn":
            record["test_error_batch_statistics"] = []
        for batch in args.batch_sizes:
            tg.manual_seed(args.seed)             # every batch size starts from the same weights
            net = network(name, args, steps[batch], int(train_set.images[0].size), classes)

            def report(epoch):
                progress.update(done + epoch + 1, f"{name} batch {batch} epoch {epoch + 1}")
            loader = data.DataLoader(train_set, batch, shuffle=True, drop_last=True, seed=args.seed,
                                     device=args.device)
            losses, diverged = train(net, loader, learning_rate(args.lr, batch), args.epochs, args.momentum,
                                     args.weight_decay, report)
            done += args.epochs
            record["train_loss"].append(losses)
            record["diverged_epoch"].append(diverged)
            record["test_error"].append(test_error(net, test_set, args.device))
            if name == "bn":
                record["test_error_batch_statistics"].append(
                    test_error(net, test_set, args.device, batch_statistics=batch, seed=args.seed))
        results[name] = record
    progress.close()
    results["seconds"] = round(time.perf_counter() - started, 1)
    return {"config": {**vars(args), "classes": classes}, **results}


# ---------------------------------------------------------------------- numbers that hold on any machine
def headline(record):
    """The numbers docs/demos.md reports, as median and range over seeds: test errors in percent."""
    numbers = {}
    for name in record["normalizations"]:
        for batch, error in zip(record["batch_sizes"], record[name]["test_error"]):
            numbers[f"{name} test error % at batch {batch}"] = 100 * error
    if "bn" in record["normalizations"]:
        for batch, error in zip(record["batch_sizes"], record["bn"]["test_error_batch_statistics"]):
            numbers[f"bn test error % at batch {batch}, batch statistics"] = 100 * error
    return numbers


def error_at(record, name, batch):
    return record[name]["test_error"][record["batch_sizes"].index(batch)]


def quick_claims(record):
    """What ``python -m demos.all --check`` asserts of the quick run (the MLP, 3 epochs, batch 2 and 32)."""
    return {
        "small batch (quick): BatchNorm's test error at batch 2 is over twice its error at batch 32":
            error_at(record, "bn", 2) > 2 * error_at(record, "bn", 32),
        "small batch (quick): GroupNorm's test error at batch 2 is below BatchNorm's":
            error_at(record, "group_norm", 2) < error_at(record, "bn", 2),
    }


# ---------------------------------------------------------------------- output
def line_style(name, **changes):
    """The shared without/with-BN look for ``plain`` and ``bn``, a colour of its own for the others."""
    if name in ("plain", "bn"):
        return style(name, label=LABELS[name], **changes)
    return {"color": COLORS[name], "linestyle": "-", "label": LABELS[name], **changes}


def architecture(config):
    """The network of a run, in words."""
    if config["arch"] == "resnet":
        return f"ResNet-{config['depth']} (width {config['width']})"
    return f"MLP {config['layers']} x {config['hidden']} ReLU"


def plot(results, path):
    """(a) test error against the batch size for each normalization, Wu & He's Figure 1 (batch size falling to
    the right); (b) BatchNorm's error with its running averages and with batch statistics."""
    plt = pyplot()
    batches = results["batch_sizes"]
    config = results["config"]
    fig, (ax_all, ax_bn) = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [1.4, 1]})
    for name in results["normalizations"]:
        errors = 100 * np.asarray(results[name]["test_error"])
        ax_all.plot(batches, errors, **line_style(name, marker="o"))
        diverged = [b for b, epoch in zip(batches, results[name]["diverged_epoch"]) if epoch is not None]
        if diverged:
            ax_all.plot(diverged, [100 * results[name]["test_error"][batches.index(b)] for b in diverged], "x",
                        ms=11, mew=2.5, color=line_style(name)["color"], label=f"{LABELS[name]}: diverged")
    if "bn" in results["normalizations"]:
        bn = results["bn"]
        ax_bn.plot(batches, 100 * np.asarray(bn["test_error"]),
                   **style("bn", marker="o", label="eval mode: running averages"))
        ax_bn.plot(batches, 100 * np.asarray(bn["test_error_batch_statistics"]),
                   **style("bn", marker="s", linestyle=":", linewidth=2,
                           label="train mode: statistics of test batches of the training size"))
    for ax, title in ((ax_all, "(a) test error against the batch size"),
                      (ax_bn, "(b) BatchNorm: which statistics at test time")):
        ax.set_xscale("log", base=2)
        ax.set_xticks(batches, [str(b) for b in batches])
        ax.set_xlim(max(batches) * 1.3, min(batches) / 1.3)            # Wu & He: the batch shrinks to the right
        highest = max(line.get_ydata().max() for line in ax.get_lines())
        ax.set(xlabel="batch size (images per step)", ylabel="test error (%)", title=title,
               ylim=(0, min(100, 1.1 * highest)))
        ax.grid(alpha=0.3)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), fontsize=9, frameon=False, ncol=3 if ax is ax_all
                  else 1)                                              # below the axes: off the data
    fig.suptitle(f"Small batches (Wu & He 2018, Figure 1) on {results['dataset']['name']}: {architecture(config)}, "
                 f"{config['epochs']} epochs at every batch size, lr {config['lr']:g} x N/{REFERENCE_BATCH}, "
                 f"seed {config['seed']}", fontsize=10)
    save_figure(fig, path)


def main(argv=None):
    args = parse_args(argv)
    results = run(args)
    results = save_run(args.out, NAME, results.pop("config"), results, plot)
    for name in results["normalizations"]:
        errors = "  ".join(f"{b}: {100 * e:4.1f}%" for b, e in zip(results["batch_sizes"], results[name]["test_error"]))
        print(f"{LABELS[name]:<30} test error by batch size  {errors}")
    print(f"({results['seconds']} s)")
    return results


if __name__ == "__main__":
    main()
