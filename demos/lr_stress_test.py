"""Learning-rate stress test: how large a step can a network with and without BN take?

    python demos/lr_stress_test.py                 # ReLU MLP on digits (MNIST if its files are found)
    python demos/lr_stress_test.py --arch resnet   # a ResNet-8 on 4,096 images, batch 512 (Page's set-up)
    python demos/lr_stress_test.py --quick         # a short smoke run
    python demos/lr_stress_test.py --momentum 0 --weight-decay 0     # plain SGD, for comparison

The claim (Ioffe & Szegedy 2015, section 3.3): Batch Normalization lets a
network train with much larger learning rates.  The experiment is David
Page's, "How to train your ResNet 7: Batch norm" (myrtle.ai, 2019), there on a
residual conv net for CIFAR-10: train with and without BN while the learning
rate grows exponentially,

    lr = lr_base * lr_growth ** (x / lr_period)  at the start of epoch x      (0.005 * 2^(x/2))

and linearly from one epoch's value to the next over the epoch's steps (his
piecewise-linear schedules are evaluated per step), by SGD with momentum 0.9
and weight decay, and see where each network stops learning.  His peaks: about
0.85 training accuracy with BN at lr 1 to 2.5; about 0.66 without BN at lr
0.11, and NaN without BN from lr 0.32.

``--arch mlp`` (the default) is a multilayer perceptron, 64 (or 784) -> 3 x
100 ReLU -> 10, once plain and once with BN before each ReLU (z = ReLU(BN(Wu)),
no bias in those layers), from the same weights (He normal hidden layers,
LeCun normal output layer, zero biases), on the same mini-batches of 60, with
weight decay 5e-4 on every parameter (Page's DAWNBench value).

``--arch resnet`` is his set-up on a small residual conv net: He et al.'s CIFAR
ResNet (``models.ResNet``, option A shortcuts, He normal weights), ``--depth`` 8
(one basic block per stage) and ``--width`` 8 channels in the first stage
(8/16/32), once without BN and once with BatchNorm2d after every convolution,
from the same weights; batches of 512, weight decay 1e-4, Nesterov momentum as
in his code.  Both twins train the same tensors, the weights of the
convolutions and of the output layer: the biases stay at 0 (his convolutions
have none) and BN's gamma and beta at 1 and 0.  The images are CIFAR-10's when they are
found under the data root; otherwise (and the output says so) MNIST's, else
the 8,000 training images of the MNIST test set, else the digits, each
channel standardised.  A seeded subset of ``--train-size`` 4,096 images (8
steps per epoch) keeps the 25 epochs (lr 0.005 to 20) on one CPU thread
under 10 minutes.

Page sums the loss over the batch of B and hands SGD the schedule's lr
divided by B and the weight decay multiplied by B.  With momentum mu (buffer
v) and weight decay, one step of his summed-loss SGD with step size lr_sum and
decay wd_sum is

    v <- mu v + sum_i grad l_i + wd_sum w,    w <- w - lr_sum v.

The summed gradient is B times the mean one, so with v = B v' this is

    v' <- mu v' + grad(mean l) + (wd_sum / B) w,    w <- w - (B lr_sum) v',

the mean-loss step with lr_mean = B lr_sum and wd_mean = wd_sum / B (Nesterov's
look-ahead is linear in v too).  His lr_sum = lr / B and wd_sum = wd B give
lr_mean = lr and wd_mean = wd: the demo averages the loss, so its lr and
weight decay are his schedule's values unchanged, and the JSON also records
the summed-loss values (``summed_loss_equivalent``).

Why momentum and weight decay matter here: a BN layer makes the loss
invariant to the scale of the weights W in front of it, so the gradient is
orthogonal to W and every step makes ||W|| grow; the step's effect on the
function goes as lr / ||W||^2 (the effective learning rate), so a growing
||W|| quietly lowers it.  Weight decay pulls ||W|| back.  The figure shows
log ||W|| of the BN network's second weight layer (and the plain network's)
against the learning rate, so the mechanism is visible.

For each epoch the demo records each network's training accuracy and mean
cross-entropy over the mini-batches it trained on (training mode, each batch
measured just before the step on it), and ||W|| of every hidden layer at the
end of the epoch.  A network *diverges* when a loss, a parameter or a BN
buffer stops being finite; it is then stopped (its curve ends with a cross),
never a crash.  It *collapses* at the first epoch whose training accuracy is
below ``--collapse-accuracy`` (0.5) after an earlier epoch had reached it, or
when it diverges, whichever comes first; the collapse learning rate is that
epoch's starting rate, and the JSON holds the ratio bn / plain.
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):        # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tinygrad_bn as tg                      # noqa: E402
import tinygrad_bn.functional as F           # noqa: E402
from tinygrad_bn import data, nn, optim      # noqa: E402
from tinygrad_bn.optim.lr_scheduler import LambdaLR   # noqa: E402
from demos.common import (IMAGE_AUTO, IMAGE_DATASETS, Progress, add_dataset_flags, demo_parser,  # noqa: E402
                          load_dataset, load_image_dataset, pyplot, require_at_least, save_figure, save_run,
                          seeded_subset, style, twin_resnets)

NAME = "lr_stress_test"
NETWORKS = ("plain", "bn")
ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}
WEIGHT_LAYER = 1                     # 0-based hidden layer whose ||W|| the figure shows
# Page's reported peaks on CIFAR-10, drawn beside the ResNet's curves: network -> (lr range, training accuracy)
PAGE_PEAKS = {"plain": ((0.11, 0.11), 0.66), "bn": ((1.0, 2.5), 0.85)}
PAGE_FIRST_NAN_WITHOUT_BN = 0.32


# Each architecture's defaults: the MLP's those documented in docs/demos.md (weight decay from Page's
# dawn.py); the ResNet's batch, epochs, momentum and weight decay those of Page's stress test, its
# subset of 4,096 images and width 8 what keeps the run on one CPU thread under 10 minutes.
DEFAULTS = {"mlp": {"epochs": 40, "batch_size": 60, "weight_decay": 5e-4, "nesterov": False, "train_size": None},
            "resnet": {"epochs": 25, "batch_size": 512, "weight_decay": 1e-4, "nesterov": True, "train_size": 4096,
                       "width": 8}}
QUICK = {"mlp": {"epochs": 10, "hidden": 64},
         "resnet": {"epochs": 10, "batch_size": 64, "width": 8}}


def parse_args(argv=None):
    p = demo_parser(__doc__.split("\n\n")[0], f"runs/{NAME}")
    p.add_argument("--arch", choices=sorted(ARCHITECTURES), default="mlp",
                   help="mlp: a ReLU MLP; resnet: a CIFAR ResNet (models.ResNet)")
    add_dataset_flags(p, choices=IMAGE_DATASETS,
                      auto=f"mlp: MNIST when its four files are found, else digits; resnet: {IMAGE_AUTO}")
    p.add_argument("--train-size", type=int, default=None,
                   help="training images used, a seeded subset (default: mlp all of them, resnet 4096)")
    p.add_argument("--epochs", type=int, default=None, help="default: mlp 40, resnet 25 (Page's)")
    p.add_argument("--batch-size", type=int, default=None, help="default: mlp 60, resnet 512 (Page's)")
    p.add_argument("--lr-base", type=float, default=0.005, help="learning rate at the start of epoch 0")
    p.add_argument("--lr-growth", type=float, default=2.0, help="factor the lr grows by every --lr-period epochs")
    p.add_argument("--lr-period", type=float, default=2.0, help="epochs over which the lr grows by --lr-growth")
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--nesterov", action=argparse.BooleanOptionalAction, default=None,
                   help="Nesterov momentum, as in Page's code (default: mlp no, resnet yes)")
    p.add_argument("--weight-decay", type=float, default=None,
                   help="per unit of lr, on every trained parameter (default: mlp 5e-4, resnet 1e-4)")
    p.add_argument("--activation", choices=sorted(ACTIVATIONS), default="relu", help="mlp only")
    p.add_argument("--hidden", type=int, default=100, help="mlp: units per hidden layer")
    p.add_argument("--layers", type=int, default=3, help="mlp: hidden layers")
    p.add_argument("--depth", type=int, default=8, help="resnet: weighted layers, 6n + 2")
    p.add_argument("--width", type=int, default=None, help="resnet: channels of the first stage (default 8)")
    p.add_argument("--collapse-accuracy", type=float, default=0.5,
                   help="training accuracy below which a network that had reached it counts as collapsed")
    args = p.parse_args(argv)
    for name, default in DEFAULTS[args.arch].items():
        if getattr(args, name) is None:
            setattr(args, name, default)
    if args.quick:   # doubling every epoch: the interesting learning rates in 10 short epochs
        args.lr_period = 1.0
        for name, limit in QUICK[args.arch].items():
            setattr(args, name, min(getattr(args, name), limit))
    require_at_least(p, args, ("epochs", "batch_size", "hidden", "layers"), 1)
    if args.arch == "mlp":
        require_at_least(p, args, ("batch_size",), 2)       # BatchNorm1d cannot train on one example
    if args.arch == "resnet":
        require_at_least(p, args, ("width",), 1)
    if args.train_size is not None and args.train_size < args.batch_size:
        p.error(f"--train-size {args.train_size} holds no full batch of --batch-size {args.batch_size}")
    if args.arch == "mlp" and args.dataset == "cifar10":
        p.error("--dataset cifar10 needs --arch resnet (the MLP runs on digits or MNIST)")
    if args.arch == "resnet" and (args.depth < 8 or (args.depth - 2) % 6):
        p.error(f"--depth of a CIFAR ResNet is 6n + 2 (8, 14, 20, ...), got {args.depth}")
    if args.lr_base <= 0 or args.lr_growth <= 0 or args.lr_period <= 0:
        p.error("--lr-base, --lr-growth and --lr-period must be positive")
    if args.nesterov and args.momentum <= 0:
        p.error("--nesterov needs a positive --momentum")
    return args


def learning_rates(base, growth, period, epochs):
    """lr at the start of epoch x: base * growth ** (x / period), for x = 0 .. epochs - 1."""
    return [base * growth ** (epoch / period) for epoch in range(epochs)]


def summed_loss_equivalent(lr, weight_decay, batch_size):
    """Page's (lr_sum, wd_sum) for the loss summed over a batch of B: (lr / B, wd B), the step of
    SGD with lr and weight decay wd on the mean loss (the derivation: this module's docstring)."""
    return lr / batch_size, weight_decay * batch_size


def lr_factor(base, growth, period, steps_per_epoch):
    """LambdaLR's factor at optimizer step t: the epoch knots joined linearly, over base."""
    def factor(step):
        epoch, within = divmod(step, steps_per_epoch)
        start, end = (growth ** (x / period) for x in (epoch, epoch + 1))
        return start + (end - start) * within / steps_per_epoch
    return factor


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


def mlp_twins(args, dataset, classes):
    """``--arch mlp``: the twin MLPs of ``twin_mlps`` for this data set."""
    return twin_mlps(dataset["input_features"], args.hidden, args.layers, classes, args.activation)


def resnet_twins(args, dataset, classes):
    """``--arch resnet``: the twin ResNets of ``common.twin_resnets`` for this data set's images, their
    fully connected layer's bias at 0, like every other bias (Page's convolutions have none)."""
    nets = twin_resnets(args.depth, args.width, dataset["image_shape"][0], classes)
    for net in nets.values():
        nn.init.zeros_(net.fc.bias)
    return nets


def weights_only(net):
    """The weights of the convolutions and the fully connected layer: what both twins train.

    The biases (0) and BN's gamma and beta (1 and 0) are left out of the optimizer and keep
    those values, so the network without BN and its twin train the same tensors.
    """
    return [m.weight for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def every_parameter(net):
    """All of ``net``'s parameters: what the MLPs train."""
    return list(net.parameters())


# --arch name -> ((args, dataset, classes) -> {"plain": net, "bn": net}, its data loader, what SGD trains)
ARCHITECTURES = {"mlp": (mlp_twins, load_dataset, every_parameter),
                 "resnet": (resnet_twins, load_image_dataset, weights_only)}


def twin_training(args, lr, momentum=0.0, weight_decay=0.0, nesterov=False):
    """The seeded start shared with landscape_smoothness: the training set (a seeded subset of
    ``--train-size`` images where given), the data set's record, the number of classes, the two
    twin networks on ``args.device`` and an SGD optimizer for each."""
    tg.manual_seed(args.seed)
    make_twins, load, trained = ARCHITECTURES[getattr(args, "arch", "mlp")]
    train, _, dataset = load(args.dataset, args.data_root, args.seed)
    classes = int(train.labels.max()) + 1
    if getattr(args, "train_size", None) is not None:
        train = seeded_subset(train, args.train_size, args.seed)
        dataset = {**dataset, "train_size": len(train.labels), "subset": f"{len(train.labels)} training images, "
                                                                         f"chosen with seed {args.seed}"}
    nets = make_twins(args, dataset, classes)
    for net in nets.values():
        net.to(args.device)
    optimizers = {name: optim.SGD(trained(net), lr=lr, momentum=momentum, weight_decay=weight_decay,
                                  nesterov=nesterov) for name, net in nets.items()}
    return train, dataset, classes, nets, optimizers


def hidden_weights(net):
    """The weights of the layers that feed a nonlinearity: every Linear or Conv2d layer but the output one."""
    return [m.weight for m in net.modules() if isinstance(m, (nn.Linear, nn.Conv2d))][:-1]


def network_text(args):
    """'ResNet-8 (width 8)' or '3x100 relu MLP': what the figure's title calls the network."""
    if args.arch == "resnet":
        return f"ResNet-{args.depth} (width {args.width})"
    return f"{args.layers}x{args.hidden} {args.activation} MLP"


def weight_layer_text(args, net):
    """What the figure calls the layer whose ||W|| it shows (``WEIGHT_LAYER`` of ``hidden_weights``):
    'hidden layer 2' of the MLP, the module's name ('layer1.0.conv1') in the ResNet."""
    if args.arch == "mlp":
        return f"hidden layer {WEIGHT_LAYER + 1}"
    weight = hidden_weights(net)[WEIGHT_LAYER]
    return next(name for name, module in net.named_modules() if getattr(module, "weight", None) is weight)


def all_finite(net):
    """Whether every parameter and buffer of ``net`` is finite."""
    return all(bool(t.isfinite().all()) for t in [*net.parameters(), *net.buffers()] if t.dtype.kind == "f")


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
    train, dataset, classes, nets, optimizers = twin_training(args, args.lr_base, args.momentum,
                                                              args.weight_decay, args.nesterov)
    lrs = learning_rates(args.lr_base, args.lr_growth, args.lr_period, args.epochs)
    loader = data.DataLoader(train, args.batch_size, shuffle=True, drop_last=True, seed=args.seed,
                             device=args.device)
    factor = lr_factor(args.lr_base, args.lr_growth, args.lr_period, len(loader))
    schedules = {name: LambdaLR(optimizer, factor) for name, optimizer in optimizers.items()}
    curves = {name: {"train_accuracy": [], "train_loss": [], "weight_norms": [],
                     "diverged_epoch": None, "diverged_step": None} for name in NETWORKS}

    progress = Progress(args.epochs, not args.no_progress)
    started, step = time.perf_counter(), 0
    for epoch, lr in enumerate(lrs):
        alive = [name for name in NETWORKS if curves[name]["diverged_epoch"] is None]
        if not alive:
            break
        correct, losses, seen = {n: 0 for n in alive}, {n: [] for n in alive}, {n: 0 for n in alive}
        for images, labels in loader:
            step += 1
            target = labels.cpu().numpy()
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
                        schedules[name].step()
                if not np.isfinite(value) or not all_finite(net):
                    curves[name]["diverged_epoch"], curves[name]["diverged_step"] = epoch, step
                    continue
                predictions = logits.detach().argmax(1).cpu().numpy()
                correct[name] += int((predictions == target).sum())
                seen[name] += len(target)
                losses[name].append(value)
        for name in alive:
            curve = curves[name]
            finished = curve["diverged_epoch"] is None
            curve["train_accuracy"].append(correct[name] / seen[name] if seen[name] else None)
            curve["train_loss"].append(float(np.mean(losses[name])) if finished else None)
            curve["weight_norms"].append([float(np.linalg.norm(w.detach().cpu().numpy().astype(np.float64)))
                                          for w in hidden_weights(nets[name])] if finished else None)
        progress.update(epoch + 1, f"lr {lr:.3g}  " + "  ".join(
            f"{n} acc {curves[n]['train_accuracy'][-1] or 0:.3f}" for n in alive))
    progress.close()
    seconds = time.perf_counter() - started

    lr_sum, weight_decay_sum = summed_loss_equivalent(args.lr_base, args.weight_decay, args.batch_size)
    results = {"config": {**vars(args), "classes": classes}, "dataset": dataset,
               "network": network_text(args), "weight_norm_layer": weight_layer_text(args, nets["bn"]),
               "epochs": list(range(args.epochs)), "learning_rates": lrs,
               "learning_rate_meaning": "the rate at the start of each epoch; it rises linearly to the next "
                                        "epoch's over the epoch's steps",
               "summed_loss_equivalent": {"lr_base": lr_sum, "weight_decay": weight_decay_sum,
                                          "meaning": "Page's convention: the loss summed over the batch, SGD with "
                                                     "lr / batch size and weight decay * batch size"},
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
            "best_lr": lrs[int(np.argmax(accuracies))] if accuracies else None,
        }
    plain_lr, bn_lr = results["plain"]["collapse_lr"], results["bn"]["collapse_lr"]
    results["collapse_lr_ratio"] = bn_lr / plain_lr if plain_lr and bn_lr else None
    results["largest_lr_tried"] = lrs[-1]
    return results


# ---------------------------------------------------------------------- numbers that hold on any machine
def headline(record):
    """The numbers docs/demos.md reports, as median and range over seeds."""
    numbers = {}
    for name in NETWORKS:
        numbers[f"{name} collapse lr"] = record[name]["collapse_lr"]
        numbers[f"{name} best training accuracy"] = record[name]["best_train_accuracy"]
        numbers[f"{name} lr of the best training accuracy"] = record[name]["best_lr"]
        numbers[f"{name} diverged lr"] = record[name]["diverged_lr"]
    numbers["collapse lr ratio bn / plain"] = record["collapse_lr_ratio"]
    return numbers


def quick_claims(record):
    """What ``python -m demos.all --check`` asserts of the quick run (10 epochs, the lr doubling every epoch)."""
    plain, bn = record["plain"], record["bn"]
    bn_limit = bn["collapse_lr"] or 2 * record["largest_lr_tried"]
    which = "" if record["config"]["arch"] == "mlp" else f", {record['network'].split()[0]}"
    return {
        f"lr stress test (quick){which}: both networks reach 0.8 training accuracy":
            plain["best_train_accuracy"] >= 0.8 and bn["best_train_accuracy"] >= 0.8,
        f"lr stress test (quick){which}: the network without BN collapses":
            plain["collapse_lr"] is not None,
        f"lr stress test (quick){which}: with BN the collapse lr is at least 4 times larger":
            plain["collapse_lr"] is not None and bn_limit >= 4 * plain["collapse_lr"],
    }


# ---------------------------------------------------------------------- output
def plot(results, path):
    """Training accuracy, loss and log ||W|| against the learning rate; collapse (line) and divergence (x)."""
    plt = pyplot()
    lrs = np.asarray(results["learning_rates"])
    fig, (ax_acc, ax_loss, ax_norm) = plt.subplots(1, 3, figsize=(17, 4.6))
    handles = []
    for name in NETWORKS:
        curve = results[name]
        n = len(curve["train_accuracy"])
        accuracy = np.array([np.nan if a is None else a for a in curve["train_accuracy"]])
        loss = np.array([np.nan if v is None else v for v in curve["train_loss"]])
        norms = np.array([np.nan if v is None else v[WEIGHT_LAYER] for v in curve["weight_norms"]])
        handles += ax_acc.plot(lrs[:n], accuracy, **style(name, marker="o", ms=3))
        ax_loss.plot(lrs[:n], loss, **style(name, marker="o", ms=3))
        ax_norm.plot(lrs[:n], norms, **style(name, marker="o", ms=3))
        if curve["collapse_lr"] is not None:
            for ax in (ax_acc, ax_loss, ax_norm):
                ax.axvline(curve["collapse_lr"], color=style(name)["color"], ls=":", lw=1.2)
        if curve["diverged_epoch"] is not None:
            lr = lrs[curve["diverged_epoch"]]
            handles += ax_acc.plot([lr], [0], "x", ms=11, mew=2.5, color=style(name)["color"],
                                   label=f"{style(name)['label']}: NaN/Inf at lr {lr:.3g}, stopped")
    if results["config"]["arch"] == "resnet":
        for name, ((low, high), accuracy) in PAGE_PEAKS.items():
            handles += ax_acc.plot([low, high], [accuracy, accuracy], marker="*", ms=12, mfc="none", lw=2,
                                   color=style(name)["color"], label=f"Page, CIFAR-10, {style(name)['label']}: "
                                                                     f"peak {accuracy:g} at lr {low:g}"
                                                                     + (f"-{high:g}" if high != low else ""))
        handles += ax_acc.plot([PAGE_FIRST_NAN_WITHOUT_BN], [0], "+", ms=13, mew=2, color=style("plain")["color"],
                               label=f"Page: NaN without BN from lr {PAGE_FIRST_NAN_WITHOUT_BN:g}")
    for name, ax in (("plain", ax_acc), ("bn", ax_acc)):
        collapse = results[name]["collapse_lr"]
        if collapse is not None:
            handles.append(plt.Line2D([], [], color=style(name)["color"], ls=":", lw=1.2,
                                      label=f"{style(name)['label']} collapses at lr {collapse:.3g}"))
    ax_acc.axhline(results["config"]["collapse_accuracy"], color="gray", lw=0.8, ls="-.")
    xlabel = "learning rate at the start of the epoch (log)"
    ax_acc.set(xscale="log", ylim=(-0.03, 1.03), xlabel=xlabel,
               ylabel="training accuracy (mini-batches of the epoch)", title="training accuracy")
    ax_loss.set(xscale="log", xlabel=xlabel, ylabel="mean training cross-entropy", title="training loss")
    layer = results["weight_norm_layer"]
    ax_norm.set(xscale="log", xlabel=xlabel, ylabel=f"||W|| of {layer}",
                title=f"norm of {layer}'s weights (log)")
    for ax, key in ((ax_loss, "train_loss"), (ax_norm, "weight_norms")):
        if any(v is not None for name in NETWORKS for v in results[name][key]):   # none if both diverged at once
            ax.set_yscale("log")
    for ax in (ax_acc, ax_loss, ax_norm):
        ax.set_xlim(lrs[0] / 1.5, lrs[-1] * 1.5)       # every panel on the schedule's whole range
        ax.grid(alpha=0.3, which="both")
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 5), fontsize=9, frameon=False)
    ratio = results["collapse_lr_ratio"]
    config = results["config"]
    fig.suptitle(f"Learning-rate stress test (Page 2019) on {results['dataset']['train_size']} "
                 f"{results['dataset']['name']} images: {results['network']}, batch {config['batch_size']}, "
                 f"SGD {'Nesterov ' if config['nesterov'] else ''}momentum {config['momentum']:g}, weight decay "
                 f"{config['weight_decay']:g} (mean loss), lr = {config['lr_base']:g} * {config['lr_growth']:g}"
                 f"^(epoch/{config['lr_period']:g}), seed {config['seed']};  collapse lr ratio BN/plain = "
                 + (f"{ratio:.3g}" if ratio else "n/a"), fontsize=10)
    save_figure(fig, path, rect=(0, 0.07 * ((len(handles) + 4) // 5), 1, 1))


def main(argv=None):
    args = parse_args(argv)
    results = run(args)
    results = save_run(args.out, NAME, results.pop("config"), results, plot)
    for name in NETWORKS:
        r = results[name]
        print(f"{name:5s}: best training accuracy {r['best_train_accuracy']:.3f} at lr {r['best_lr']:.3g}, "
              f"collapse lr {r['collapse_lr']}, "
              f"diverged (NaN/Inf) at lr {r['diverged_lr']}")
    print(f"collapse lr ratio BN/plain: {results['collapse_lr_ratio']}  ({results['seconds']} s)")
    return results


if __name__ == "__main__":
    main()
