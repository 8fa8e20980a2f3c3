"""Learning-rate stress test: how large a step can a network with and without BN take?

    python demos/lr_stress_test.py               # ReLU MLP on digits (MNIST if its files are found)
    python demos/lr_stress_test.py --quick       # a short smoke run
    python demos/lr_stress_test.py --activation sigmoid --lr-base 0.01

The claim tested (Ioffe & Szegedy 2015, section 3.3; Bjorck et al. 2018):
Batch Normalization lets a network train with much larger learning rates.
Two multilayer perceptrons with the same initial weights, one plain and one
with BN before each hidden nonlinearity (z = g(BN(Wu)), no bias in those
layers), are trained by plain SGD on the same mini-batches while the learning
rate grows every epoch,

    lr(epoch) = lr_base * lr_growth ** (epoch / lr_period)     (0.005 * 2^(epoch/2) by default).

For each epoch the demo records each network's training accuracy and mean
cross-entropy over the mini-batches it trained on (in training mode, measured
on each batch just before the step on it).  Look at the learning rate where a
curve falls off:

* a network *diverges* when a loss or a parameter stops being finite; it is
  then stopped (its curve ends with a cross), never a crash;
* a network *collapses* at the first epoch whose training accuracy is below
  ``--collapse-accuracy`` (0.5) after an earlier epoch had reached it, or at
  the epoch it diverges, whichever comes first.  Its collapse learning rate is
  that epoch's learning rate.

The JSON holds both curves, each network's collapse and divergence learning
rates and their ratio ``bn / plain`` (the issue asks for at least 10).
"""
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):        # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tinygrad_bn as tg                      # noqa: E402
import tinygrad_bn.functional as F           # noqa: E402
from tinygrad_bn import data, nn, optim      # noqa: E402
from demos.common import Progress, demo_parser, pyplot, require_at_least, save_figure, save_run   # noqa: E402
from demos.ioffe_fig1 import load_dataset    # noqa: E402

NAME = "lr_stress_test"
NETWORKS = ("plain", "bn")
ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}


def parse_args(argv=None):
    p = demo_parser(__doc__.split("\n\n")[0], f"runs/{NAME}")
    p.add_argument("--dataset", choices=["auto", "mnist", "mnist-t10k", "digits"], default="auto",
                   help="auto: MNIST when its four files are found locally, else digits")
    p.add_argument("--data-root", default=None, help="where MNIST files are looked for")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--batch-size", type=int, default=60)
    p.add_argument("--lr-base", type=float, default=0.005, help="learning rate of the first epoch")
    p.add_argument("--lr-growth", type=float, default=2.0, help="factor the lr grows by every --lr-period epochs")
    p.add_argument("--lr-period", type=float, default=2.0, help="epochs over which the lr grows by --lr-growth")
    p.add_argument("--activation", choices=sorted(ACTIVATIONS), default="relu")
    p.add_argument("--hidden", type=int, default=100, help="units per hidden layer")
    p.add_argument("--layers", type=int, default=3, help="hidden layers")
    p.add_argument("--collapse-accuracy", type=float, default=0.5,
                   help="training accuracy below which a network that had reached it counts as collapsed")
    args = p.parse_args(argv)
    if args.quick:   # doubling every epoch from 0.1: the interesting learning rates in 8 epochs
        args.epochs, args.lr_base, args.lr_period = min(args.epochs, 8), max(args.lr_base, 0.1), 1.0
        args.hidden = min(args.hidden, 64)
    require_at_least(p, args, ("epochs", "batch_size", "hidden", "layers"), 1)
    if args.lr_base <= 0 or args.lr_growth <= 0 or args.lr_period <= 0:
        p.error("--lr-base, --lr-growth and --lr-period must be positive")
    return args


def learning_rates(base, growth, period, epochs):
    """lr(epoch) = base * growth ** (epoch / period) for epoch = 0 .. epochs - 1."""
    return [base * growth ** (epoch / period) for epoch in range(epochs)]


# ---------------------------------------------------------------------- networks
def twin_mlps(in_features, hidden, layers, classes, activation="relu"):
    """A plain MLP and its BN twin, with identical initial weights.

    plain: (Linear -> g) x layers -> Linear;  bn: (Linear without bias -> BN -> g) x layers -> Linear.
    Hidden weights are He-normal for ReLU (Xavier-normal for sigmoid/tanh), the output layer LeCun-normal,
    biases 0; all drawn from the seeded library generator.
    """
    make_activation = ACTIVATIONS[activation]
    plain_layers, bn_layers = [], []
    for fan_in in [in_features] + [hidden] * (layers - 1):
        dense, dense_no_bias = nn.Linear(fan_in, hidden), nn.Linear(fan_in, hidden, bias=False)
        if activation == "relu":
            nn.init.kaiming_normal_(dense.weight, nonlinearity="relu")
        else:
            nn.init.xavier_normal_(dense.weight, gain=nn.init.calculate_gain(activation))
        nn.init.zeros_(dense.bias)
        dense_no_bias.weight.data[...] = dense.weight.data
        plain_layers += [dense, make_activation()]
        bn_layers += [dense_no_bias, nn.BatchNorm1d(hidden), make_activation()]
    heads = nn.Linear(hidden, classes), nn.Linear(hidden, classes)
    nn.init.lecun_normal_(heads[0].weight)
    heads[1].weight.data[...] = heads[0].weight.data
    for head in heads:
        nn.init.zeros_(head.bias)
    return {"plain": nn.Sequential(*plain_layers, heads[0]), "bn": nn.Sequential(*bn_layers, heads[1])}


def twin_training(args, lr):
    """The seeded start shared with landscape_smoothness: the training set, the data set's
    record, the number of classes, the two twin networks on ``args.device`` and an SGD
    optimizer for each."""
    tg.manual_seed(args.seed)
    train, _, dataset = load_dataset(args.dataset, args.data_root, args.seed)
    classes = int(train.labels.max()) + 1
    nets = twin_mlps(dataset["input_features"], args.hidden, args.layers, classes, args.activation)
    for net in nets.values():
        net.to(args.device)
    optimizers = {name: optim.SGD(net.parameters(), lr=lr) for name, net in nets.items()}
    return train, dataset, classes, nets, optimizers


def all_finite(net):
    """Whether every parameter and buffer of ``net`` is finite."""
    xp = tg.backend.xp_of(next(iter(net.parameters())).device)
    return all(bool(xp.isfinite(t.data).all()) for t in [*net.parameters(), *net.buffers()]
               if t.data.dtype.kind == "f")


def collapse_epoch(accuracies, diverged_epoch, threshold):
    """First epoch with accuracy < threshold after an earlier epoch reached it, or the divergence epoch."""
    reached = False
    for epoch, accuracy in enumerate(accuracies):
        if diverged_epoch is not None and epoch >= diverged_epoch:
            return diverged_epoch
        if reached and accuracy < threshold:
            return epoch
        reached = reached or accuracy >= threshold
    return diverged_epoch


# ---------------------------------------------------------------------- the run
def run(args):
    train, dataset, classes, nets, optimizers = twin_training(args, args.lr_base)
    lrs = learning_rates(args.lr_base, args.lr_growth, args.lr_period, args.epochs)
    loader = data.DataLoader(train, args.batch_size, drop_last=True, seed=args.seed, device=args.device)
    curves = {name: {"train_accuracy": [], "train_loss": [], "diverged_epoch": None, "diverged_step": None}
              for name in NETWORKS}

    progress = Progress(args.epochs, not args.no_progress)
    started, step = time.perf_counter(), 0
    for epoch, lr in enumerate(lrs):
        alive = [name for name in NETWORKS if curves[name]["diverged_epoch"] is None]
        if not alive:
            break
        for name in alive:
            for group in optimizers[name].param_groups:
                group["lr"] = lr
        correct, losses, seen = {n: 0 for n in alive}, {n: [] for n in alive}, {n: 0 for n in alive}
        for images, labels in loader:
            step += 1
            target = tg.backend.to_numpy(labels.data)
            for name in [n for n in alive if curves[n]["diverged_epoch"] is None]:
                net = nets[name]
                with np.errstate(all="ignore"):       # overflow is expected here: it is checked below
                    logits = net(images)
                    loss = F.cross_entropy(logits, labels)
                    value = loss.item()
                    if np.isfinite(value):
                        optimizers[name].zero_grad()
                        loss.backward()
                        optimizers[name].step()
                if not np.isfinite(value) or not all_finite(net):
                    curves[name]["diverged_epoch"], curves[name]["diverged_step"] = epoch, step
                    continue
                predictions = tg.backend.to_numpy(logits.data.argmax(axis=1))
                correct[name] += int((predictions == target).sum())
                seen[name] += len(target)
                losses[name].append(value)
        for name in alive:
            curve = curves[name]
            curve["train_accuracy"].append(correct[name] / seen[name] if seen[name] else None)
            curve["train_loss"].append(float(np.mean(losses[name])) if curve["diverged_epoch"] is None else None)
        progress.update(epoch + 1, f"lr {lr:.3g}  " + "  ".join(
            f"{n} acc {curves[n]['train_accuracy'][-1] or 0:.3f}" for n in alive))
    progress.close()
    seconds = time.perf_counter() - started

    results = {"config": {**vars(args), "classes": classes}, "dataset": dataset,
               "epochs": list(range(args.epochs)), "learning_rates": lrs,
               "steps_per_epoch": len(loader), "seconds": round(seconds, 1)}
    for name in NETWORKS:
        curve = curves[name]
        accuracies = [a if a is not None else 0.0 for a in curve["train_accuracy"]]
        collapsed = collapse_epoch(accuracies, curve["diverged_epoch"], args.collapse_accuracy)
        results[name] = {
            **curve,
            "diverged_lr": lrs[curve["diverged_epoch"]] if curve["diverged_epoch"] is not None else None,
            "collapse_epoch": collapsed,
            "collapse_lr": lrs[collapsed] if collapsed is not None else None,
            "best_train_accuracy": max(accuracies, default=0.0),
        }
    plain_lr, bn_lr = results["plain"]["collapse_lr"], results["bn"]["collapse_lr"]
    results["collapse_lr_ratio"] = bn_lr / plain_lr if plain_lr and bn_lr else None
    results["largest_lr_tried"] = lrs[-1]
    return results


# ---------------------------------------------------------------------- output
def plot(results, path):
    """Training accuracy and loss against the learning rate; collapse (dashed line) and divergence (x) marked."""
    plt = pyplot()
    lrs = np.asarray(results["learning_rates"])
    fig, (ax_acc, ax_loss) = plt.subplots(1, 2, figsize=(12, 4.2))
    for name, label, color in (("plain", "without BN", "tab:red"), ("bn", "with BN", "tab:blue")):
        curve = results[name]
        n = len(curve["train_accuracy"])
        accuracy = np.array([np.nan if a is None else a for a in curve["train_accuracy"]])
        loss = np.array([np.nan if v is None else v for v in curve["train_loss"]])
        ax_acc.plot(lrs[:n], accuracy, "o-", ms=3, color=color, label=label)
        ax_loss.plot(lrs[:n], loss, "o-", ms=3, color=color, label=label)
        if curve["collapse_lr"] is not None:
            for ax in (ax_acc, ax_loss):
                ax.axvline(curve["collapse_lr"], color=color, ls="--", lw=1)
            ax_acc.annotate(f"collapse\nlr {curve['collapse_lr']:.3g}", (curve["collapse_lr"], 0.05),
                            color=color, fontsize=8, ha="right" if name == "plain" else "left",
                            xytext=(-3 if name == "plain" else 3, 0), textcoords="offset points")
        if curve["diverged_epoch"] is not None:
            lr = lrs[curve["diverged_epoch"]]
            ax_acc.plot([lr], [0], "x", ms=11, mew=2.5, color=color,
                        label=f"{label}: NaN/Inf at lr {lr:.3g}, stopped")
            ax_loss.plot([lr], [np.nanmax(loss) if np.isfinite(loss).any() else 1.0], "x", ms=11, mew=2.5,
                         color=color)
    ax_acc.axhline(results["config"]["collapse_accuracy"], color="gray", lw=0.8, ls=":")
    ax_acc.set(xscale="log", ylim=(-0.03, 1.03), xlabel="learning rate (grows every epoch)",
               ylabel="training accuracy (mini-batches of the epoch)", title="training accuracy")
    ax_loss.set(xscale="log", yscale="log", xlabel="learning rate (grows every epoch)",
                ylabel="mean training cross-entropy", title="training loss")
    for ax in (ax_acc, ax_loss):
        ax.grid(alpha=0.3, which="both")
    ax_acc.legend(loc="center left", fontsize=8)
    ratio = results["collapse_lr_ratio"]
    config = results["config"]
    fig.suptitle(f"Learning-rate stress test on {results['dataset']['name']}: {config['layers']}x{config['hidden']} "
                 f"{config['activation']} MLP, lr = {config['lr_base']:g} * {config['lr_growth']:g}^(epoch/"
                 f"{config['lr_period']:g});  collapse lr ratio BN/plain = "
                 + (f"{ratio:.3g}" if ratio else "n/a"), fontsize=10)
    save_figure(fig, path)


def main(argv=None):
    args = parse_args(argv)
    results = run(args)
    results = save_run(args.out, NAME, results.pop("config"), results, plot)
    for name in NETWORKS:
        r = results[name]
        print(f"{name:5s}: best training accuracy {r['best_train_accuracy']:.3f}, collapse lr {r['collapse_lr']}, "
              f"diverged (NaN/Inf) at lr {r['diverged_lr']}")
    print(f"collapse lr ratio BN/plain: {results['collapse_lr_ratio']}  ({results['seconds']} s)")
    return results


if __name__ == "__main__":
    main()
