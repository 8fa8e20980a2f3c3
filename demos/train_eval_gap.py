"""The train/eval gap: why a BN network computes another function in eval(), and when that costs accuracy.

    python demos/train_eval_gap.py              # about 15 seconds on one thread
    python demos/train_eval_gap.py --quick      # a short smoke run

In train mode a BN layer normalises each example with the mean and variance of
its mini-batch; in eval mode with fixed estimates of the population's, so that
an example's output no longer depends on the others (Ioffe & Szegedy 2015,
section 3.1).  PyTorch's estimates, and the library's, are exponential moving
averages updated at every training step,

    running <- (1 - momentum) * running + momentum * batch statistic,

where the paper's Algorithm 2 averages the batch statistics of the trained
network over training mini-batches (``nn.recompute_population_stats``).
Three experiments, all on scikit-learn's 8x8 digits (1,437 training and 360
test images) with an MLP 64 -> 100 -> 100 -> 10, BatchNorm1d before each ReLU,
trained for 20 epochs by SGD (lr 0.1, momentum 0.9, weight decay 1e-4, the
learning rate divided by 10 after epochs 6, 12 and 18) on batches of 32:

(a, b) batch size: the network trained on i.i.d. batches, run in train mode on
    i.i.d. test batches of 2 to 360 images.  Its test accuracy, the fraction
    of test images whose predicted class differs from eval mode's, and the
    relative difference of the logits, rms(z_train - z_eval) / rms(z_eval),
    against the test batch size: the batch statistics' noise shrinks as the
    batch grows, and with it the gap.
(c) momentum: the same training with the running averages' momentum 0.001 to
    0.9.  Training never reads the running averages, so every momentum gives
    the same weights; only the averages, and so the eval network, differ.  The
    eval accuracy with the moving averages, and with Algorithm 2's statistics
    over the training set in batches of 32, and how far the moving averages
    are from Algorithm 2's (the channels' |mean difference| / population std
    and |log variance ratio|, averaged): a small momentum averages over stale
    networks (and the initial mean 0, variance 1), a large one over few
    batches.
(d) non-i.i.d. batches (Ioffe 2017, "Batch Renormalization", section 4): the
    paper's metric-learning construction draws each mini-batch of 32 by
    picking 16 of ImageNet's 1,000 labels and 2 images of each, so a batch
    holds 1.6% of the classes.  With 10 classes the demo draws each batch of
    16 from 2 classes (20% of them), 8 images of each (``--classes-per-batch``,
    ``--per-class``), 89 batches an epoch.  Trained on them: BN, and Batch
    Renorm with the paper's rmax = 3, dmax = 5 after its warm-up (BatchNorm
    for the first epoch, dmax reached after 5 epochs and rmax after 8, each
    of Ioffe's 5,000 steps read as one epoch); BN on i.i.d. batches of 16 is
    the reference.  The eval accuracy after every epoch, and at the end BN's
    accuracy in train mode on test batches built the same way (a test of
    whether BN has fitted the batches' distribution, as Ioffe suggests it may), over ``--repeats``
    (5) seeds from ``--seed``, as median and range.

The JSON holds every number drawn, and the figure one panel for each of (a)
to (d).
"""
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):        # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tinygrad_bn as tg                      # noqa: E402
from tinygrad_bn import nn                    # noqa: E402
from demos.common import (Progress, accuracy, batch_logits, demo_parser, iid_batches, load_dataset,  # noqa: E402
                          mlp, pyplot, renorm_warmup, require_at_least, restored, save_figure, save_run,
                          standardized, style, train)

NAME = "train_eval_gap"
FEATURES, CLASSES = 64, 10           # the 8x8 digits
TEST_BATCH_SIZES = (2, 4, 8, 16, 32, 64, 128, 360)
MOMENTA = (0.001, 0.01, 0.1, 0.5, 0.9)
NON_IID_NETWORKS = ("bn_iid", "bn", "batch_renorm")
LABELS = {"bn_iid": "BatchNorm, i.i.d. batches", "bn": "BatchNorm, non-i.i.d. batches",
          "batch_renorm": "Batch Renorm, non-i.i.d. batches"}
COLORS = {"bn_iid": "tab:gray", "bn": "tab:blue", "batch_renorm": "tab:orange"}


def parse_args(argv=None):
    p = demo_parser(__doc__.split("\n\n")[0], f"runs/{NAME}")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch-size", type=int, default=32, help="of the i.i.d. training in (a) to (c)")
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--sgd-momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--hidden", type=int, default=100)
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--momenta", type=float, nargs="+", default=list(MOMENTA),
                   help="of the running averages, in (c); (a, b) use 0.1 (PyTorch's default)")
    p.add_argument("--test-batch-sizes", type=int, nargs="+", default=list(TEST_BATCH_SIZES))
    p.add_argument("--classes-per-batch", type=int, default=2, help="(d): classes in each non-i.i.d. batch")
    p.add_argument("--per-class", type=int, default=8, help="(d): images of each of those classes")
    p.add_argument("--rmax", type=float, default=3.0, help="(d): Batch Renorm's limit on r (Ioffe's)")
    p.add_argument("--dmax", type=float, default=5.0, help="(d): Batch Renorm's limit on d (Ioffe's)")
    p.add_argument("--repeats", type=int, default=5, help="(d): seeds --seed, --seed + 1, ...")
    args = p.parse_args(argv)
    require_at_least(p, args, ("epochs", "hidden", "layers", "classes_per_batch", "per_class", "repeats"), 1)
    require_at_least(p, args, ("batch_size",), 2)               # BatchNorm cannot train on one example
    if min(args.test_batch_sizes) < 2:
        p.error("--test-batch-sizes must be at least 2: one example has no batch variance")
    if 0.1 not in args.momenta:
        p.error("--momenta must include 0.1: experiments (a, b) use that network")
    if not all(0 < m <= 1 for m in args.momenta):
        p.error(f"--momenta must lie in (0, 1], got {args.momenta}")
    if args.classes_per_batch > CLASSES or args.classes_per_batch * args.per_class < 2:
        p.error(f"--classes-per-batch must be at most the digits' {CLASSES} classes, and a batch of "
                f"--classes-per-batch x --per-class must hold at least 2 images, got {args.classes_per_batch} "
                f"x {args.per_class}")
    if args.lr <= 0 or args.sgd_momentum < 0 or args.weight_decay < 0:
        p.error(f"--lr must be positive and --sgd-momentum, --weight-decay non-negative, got {args.lr}, "
                f"{args.sgd_momentum}, {args.weight_decay}")
    if args.quick:
        args.epochs, args.repeats = min(args.epochs, 5), min(args.repeats, 2)
        args.momenta, args.test_batch_sizes = [0.001, 0.1, 0.9], [2, 8, 32, 360]
    return args


# ---------------------------------------------------------------------- data and batches
def few_class_batches(labels, classes_per_batch, per_class, count, rng):
    """``count`` non-i.i.d. batches of indices: each picks ``classes_per_batch`` distinct classes at random,
    then ``per_class`` distinct examples of each (Ioffe 2017: 16 labels, then 2 images of each)."""
    classes = np.unique(labels)
    members = {c: np.flatnonzero(labels == c) for c in classes}
    fewest = min(len(m) for m in members.values())
    if per_class > fewest:
        raise ValueError(f"--per-class {per_class}: the smallest class of the training set has {fewest} images")
    return [np.concatenate([rng.choice(members[c], per_class, replace=False)
                            for c in rng.choice(classes, classes_per_batch, replace=False)])
            for _ in range(count)]


class Batches:
    """Training batches as (images, labels) Tensors on ``device``: each pass over it (one epoch) gathers the
    index batches ``draw()`` returns, so it trains like a DataLoader with another sampler."""

    def __init__(self, dataset, draw, device):
        self.dataset, self.draw, self.device = dataset, draw, device

    def __iter__(self):
        for rows in self.draw():
            yield (tg.tensor(self.dataset.images[rows], device=self.device),
                   tg.tensor(self.dataset.labels[rows], device=self.device))


def iid_training(dataset, batch_size, seed, device):
    """An epoch of i.i.d. batches: a fresh permutation cut into len // batch_size batches (last one dropped)."""
    rng = np.random.default_rng(seed)
    count = len(dataset.labels) // batch_size
    return Batches(dataset, lambda: np.split(rng.permutation(len(dataset.labels))[:count * batch_size], count),
                   device)


def few_class_training(dataset, classes_per_batch, per_class, seed, device):
    """An epoch of few-class batches, as many as an i.i.d. epoch of the same batch size has."""
    rng = np.random.default_rng(seed)
    count = len(dataset.labels) // (classes_per_batch * per_class)
    return Batches(dataset, lambda: few_class_batches(dataset.labels, classes_per_batch, per_class, count, rng),
                   device)


# ---------------------------------------------------------------------- measurements
def output_gap(net, dataset, device, batch_size, seed):
    """Train mode on i.i.d. batches of ``batch_size`` against eval mode: (accuracy in train mode, fraction of
    examples whose predicted class differs, rms(z_train - z_eval) / rms(z_eval) over the logits z)."""
    rows, train_logits = batch_logits(net, dataset, device, iid_batches(len(dataset.labels), batch_size, seed))
    _, eval_logits = batch_logits(net, dataset, device)          # eval mode: every example, in order
    eval_logits = eval_logits[rows]
    return (float(np.mean(train_logits.argmax(axis=1) == dataset.labels[rows])),
            float(np.mean(train_logits.argmax(axis=1) != eval_logits.argmax(axis=1))),
            float(np.sqrt(np.mean((train_logits - eval_logits) ** 2) / np.mean(eval_logits ** 2))))


def bn_layers(net):
    """The network's BatchNorm1d layers, in order."""
    return [m for m in net.modules() if isinstance(m, nn.BatchNorm1d)]


def running_stats(net):
    """(mean, var) of every BatchNorm1d, concatenated over the layers."""
    layers = bn_layers(net)
    return (np.concatenate([m.running_mean.cpu().numpy() for m in layers]),
            np.concatenate([m.running_var.cpu().numpy() for m in layers]))


def population_comparison(net, train_set, test_set, batch_size, seed, device):
    """Eval accuracy with the running averages and with Algorithm 2's statistics over the training set in
    i.i.d. batches of ``batch_size``, and the averages' distance from those statistics: the mean over
    channels of |mean difference| / population std, and of |log(running var / population var)|.
    The network's running averages are left as they were."""
    ema_accuracy = accuracy(net, test_set, device)
    ema_mean, ema_var = running_stats(net)
    batches = [tg.tensor(train_set.images[rows], device=device)
               for rows in iid_batches(len(train_set.labels), batch_size, seed)]
    with restored(net):
        nn.recompute_population_stats(net, batches)
        population_accuracy = accuracy(net, test_set, device)
        mean, var = running_stats(net)
    return {"ema_accuracy": ema_accuracy, "population_accuracy": population_accuracy,
            "mean_distance": float(np.mean(np.abs(ema_mean - mean) / np.sqrt(var))),
            "log_var_ratio": float(np.mean(np.abs(np.log(ema_var / var))))}


# ---------------------------------------------------------------------- the experiments
def bn_network(args, momentum=0.1):
    """The BN MLP of every experiment, its running averages with ``momentum``, on ``args.device``."""
    return mlp(lambda h: nn.BatchNorm1d(h, momentum=momentum), FEATURES, args.hidden, args.layers,
               CLASSES).to(args.device)


def momentum_experiment(args, train_set, test_set, progress):
    """(c), and (a, b) on its momentum-0.1 network: one seeded training per momentum."""
    record = {"momenta": args.momenta, **{key: [] for key in
              ("ema_accuracy", "population_accuracy", "mean_distance", "log_var_ratio", "train_loss")}}
    for momentum in args.momenta:
        tg.manual_seed(args.seed)
        net = bn_network(args, momentum)
        losses, _ = train(net, iid_training(train_set, args.batch_size, args.seed, args.device), args.lr,
                          args.epochs, args.sgd_momentum, args.weight_decay)
        progress.advance(f"(c) momentum {momentum}")
        for key, value in population_comparison(net, train_set, test_set, args.batch_size, args.seed,
                                                args.device).items():
            record[key].append(value)
        record["train_loss"].append(losses)
        if momentum == 0.1:
            gap = batch_size_experiment(args, net, test_set)
    return gap, record


def batch_size_experiment(args, net, test_set):
    """(a, b): the network in train mode on i.i.d. test batches of each size, against eval mode."""
    record = {"test_batch_sizes": args.test_batch_sizes, "eval_accuracy": accuracy(net, test_set, args.device),
              "train_mode_accuracy": [], "disagreement": [], "relative_logit_gap": []}
    for size in args.test_batch_sizes:
        train_accuracy, disagreement, gap = output_gap(net, test_set, args.device, size, args.seed)
        record["train_mode_accuracy"].append(train_accuracy)
        record["disagreement"].append(disagreement)
        record["relative_logit_gap"].append(gap)
    return record


def non_iid_network(name, args, steps_per_epoch):
    """The MLP of (d): BatchNorm1d, or BatchRenorm1d with Ioffe's limits and warm-up."""
    if name != "batch_renorm":
        return bn_network(args)
    return mlp(lambda h: nn.BatchRenorm1d(h, rmax=args.rmax, dmax=args.dmax, warmup=renorm_warmup(steps_per_epoch)),
               FEATURES, args.hidden, args.layers, CLASSES).to(args.device)


def non_iid_experiment(args, train_set, test_set, progress):
    """(d): per repeat, BN on i.i.d. batches, then BN and Batch Renorm on few-class batches."""
    batch = args.classes_per_batch * args.per_class
    steps = len(train_set.labels) // batch
    record = {"batch_size": batch, "steps_per_epoch": steps,
              **{name: {"eval_accuracy": [], "same_structure_accuracy": []} for name in NON_IID_NETWORKS}}
    for repeat in range(args.repeats):
        seed = args.seed + repeat
        for name in NON_IID_NETWORKS:
            tg.manual_seed(seed)
            net = non_iid_network(name, args, steps)
            batches = (iid_training(train_set, batch, seed, args.device) if name == "bn_iid" else
                       few_class_training(train_set, args.classes_per_batch, args.per_class, seed, args.device))
            curve = []
            train(net, batches, args.lr, args.epochs, args.sgd_momentum, args.weight_decay,
                  lambda epoch: curve.append(accuracy(net, test_set, args.device)))
            progress.advance(f"(d) {name} repeat {repeat + 1}")
            test_batches = few_class_batches(test_set.labels, args.classes_per_batch, args.per_class,
                                             4 * len(test_set.labels) // batch, np.random.default_rng(seed))
            record[name]["eval_accuracy"].append(curve)
            record[name]["same_structure_accuracy"].append(accuracy(net, test_set, args.device, test_batches))
    return record


def run(args):
    raw_train, raw_test, dataset = load_dataset("digits")
    train_set, test_set = standardized(raw_train, raw_test)
    started = time.perf_counter()
    progress = Progress(len(args.momenta) + args.repeats * len(NON_IID_NETWORKS), not args.no_progress)
    gap, momentum = momentum_experiment(args, train_set, test_set, progress)
    non_iid = non_iid_experiment(args, train_set, test_set, progress)
    progress.close()
    return {"config": vars(args), "dataset": dataset, "batch_size_gap": gap, "momentum": momentum,
            "non_iid": non_iid, "seconds": round(time.perf_counter() - started, 1)}


# ---------------------------------------------------------------------- numbers that hold on any machine
def final(record, name, key="eval_accuracy"):
    """The last epoch's accuracies of one non-i.i.d. network, one per repeat."""
    values = record["non_iid"][name][key]
    return [v[-1] for v in values] if key == "eval_accuracy" else values


def headline(record):
    """The numbers docs/demos.md reports, as median and range over seeds: accuracies in percent."""
    gap, momentum = record["batch_size_gap"], record["momentum"]
    numbers = {"eval-mode test accuracy %": 100 * gap["eval_accuracy"]}
    for size, acc, disagreement in zip(gap["test_batch_sizes"], gap["train_mode_accuracy"], gap["disagreement"]):
        numbers[f"train-mode test accuracy % with batches of {size}"] = 100 * acc
        numbers[f"train/eval disagreement % with batches of {size}"] = 100 * disagreement
    for m, ema, population in zip(momentum["momenta"], momentum["ema_accuracy"], momentum["population_accuracy"]):
        numbers[f"momentum {m}: eval accuracy % with the moving averages"] = 100 * ema
        numbers[f"momentum {m}: eval accuracy % with Algorithm 2's statistics"] = 100 * population
    for name in NON_IID_NETWORKS:
        numbers[f"non-i.i.d.: {name} eval accuracy %, median of repeats"] = 100 * float(np.median(final(record, name)))
    numbers["non-i.i.d.: bn train-mode accuracy % on same-structure test batches, median of repeats"] = \
        100 * float(np.median(final(record, "bn", "same_structure_accuracy")))
    return numbers


def quick_claims(record):
    """What ``python -m demos.all --check`` asserts of the quick run (5 epochs, 2 repeats)."""
    gap, momentum = record["batch_size_gap"], record["momentum"]
    smallest = gap["test_batch_sizes"].index(min(gap["test_batch_sizes"]))
    return {
        "train/eval gap (quick): BN's test accuracy in train mode on batches of 2 is at least 10 points below eval "
        "mode's": gap["train_mode_accuracy"][smallest] < gap["eval_accuracy"] - 0.1,
        "train/eval gap (quick): with momentum 0.001 Algorithm 2's statistics beat the moving averages by 2 "
        "points": momentum["population_accuracy"][0] > momentum["ema_accuracy"][0] + 0.02,
        "train/eval gap (quick): on non-i.i.d. batches Batch Renorm's eval accuracy is above BN's in every repeat":
            all(r > b for r, b in zip(final(record, "batch_renorm"), final(record, "bn"))),
    }


# ---------------------------------------------------------------------- output
def plot(results, path):
    """(a) accuracy in train mode against the test batch size, (b) the output gap, (c) eval accuracy
    against the momentum, (d) the non-i.i.d. curves."""
    plt = pyplot()
    gap, momentum, non_iid, config = results["batch_size_gap"], results["momentum"], results["non_iid"], \
        results["config"]
    fig, ((ax_a, ax_b), (ax_c, ax_d)) = plt.subplots(2, 2, figsize=(13, 9.5))
    sizes = gap["test_batch_sizes"]

    ax_a.plot(sizes, 100 * np.asarray(gap["train_mode_accuracy"]),
              **style("bn", marker="s", linestyle=":", linewidth=2, label="train mode: each test batch's statistics"))
    ax_a.axhline(100 * gap["eval_accuracy"], **style("bn", label="eval mode: running averages (momentum 0.1)"))
    ax_a.set(ylabel="test accuracy (%)", title="(a) BN network in train mode on test batches of each size")

    ax_b.plot(sizes, 100 * np.asarray(gap["disagreement"]), "o-", color="tab:blue",
              label="predicted class differs from eval mode's (% of test images)")
    ax_b.plot(sizes, 100 * np.asarray(gap["relative_logit_gap"]), "s--", color="tab:purple",
              label="rms(z_train - z_eval) / rms(z_eval) (%)")
    ax_b.set(yscale="log", ylabel="%", title="(b) how far train mode's outputs are from eval mode's")
    for ax in (ax_a, ax_b):
        ax.set_xscale("log", base=2)
        ax.set_xticks(sizes, [str(s) for s in sizes])
        ax.set_xlabel("test batch size (images whose statistics normalise each other)")

    momenta = momentum["momenta"]
    ax_c.plot(momenta, 100 * np.asarray(momentum["ema_accuracy"]), **style("bn", marker="o",
              label="eval mode: moving averages of that momentum"))
    ax_c.plot(momenta, 100 * np.asarray(momentum["population_accuracy"]), "s--", color="tab:green",
              label="eval mode: Algorithm 2's population statistics")
    ax_c.set(xscale="log", xlabel="momentum of the running averages (new = (1 - m) old + m batch)",
             ylabel="test accuracy (%)", title="(c) moving averages against Algorithm 2 (same weights at every m)")

    epochs = np.arange(1, config["epochs"] + 1)
    for name in NON_IID_NETWORKS:
        curves = 100 * np.asarray(non_iid[name]["eval_accuracy"])
        ax_d.plot(epochs, np.median(curves, axis=0), color=COLORS[name], label=f"{LABELS[name]}: eval mode")
        ax_d.fill_between(epochs, curves.min(axis=0), curves.max(axis=0), color=COLORS[name], alpha=0.2)
    same = 100 * np.asarray(non_iid["bn"]["same_structure_accuracy"])
    middle = np.median(same)
    ax_d.errorbar([epochs[-1]], [middle], yerr=[[middle - same.min()], [same.max() - middle]], fmt="D",
                  color="tab:blue", capsize=4,
                  label="BatchNorm, non-i.i.d.: train mode on test batches built the same way")
    ax_d.set(xlabel="epoch", ylabel="test accuracy (%)", ylim=(0, 100),
             title=f"(d) batches of {config['classes_per_batch']} classes x {config['per_class']} images\n"
                   f"(median and range of {config['repeats']} seeds)")
    for ax in (ax_a, ax_b, ax_c, ax_d):
        ax.grid(alpha=0.3)
    for ax in (ax_a, ax_b, ax_c):
        ax.legend(fontsize=9, frameon=False, loc="lower right" if ax is not ax_b else "lower left")
    ax_d.legend(fontsize=9, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.13))   # off the bands
    fig.suptitle(f"The train/eval gap of BatchNorm on {results['dataset']['name']}: MLP {config['layers']} x "
                 f"{config['hidden']} ReLU, {config['epochs']} epochs, seed {config['seed']}", fontsize=11)
    save_figure(fig, path)


def main(argv=None):
    args = parse_args(argv)
    results = run(args)
    results = save_run(args.out, NAME, results.pop("config"), results, plot)
    for key, value in headline(results).items():
        print(f"{key:<90} {value:6.1f}")
    print(f"({results['seconds']} s)")
    return results


if __name__ == "__main__":
    main()
