"""How fast does each hidden layer learn?  The vanishing gradient, without and with BN.

    python demos/learning_speed.py              # MNIST if its training files are found, else digits
    python demos/learning_speed.py --quick      # a short smoke run
    python demos/learning_speed.py --dataset mnist-t10k --data-root /path/to/mnist

Nielsen, "Neural Networks and Deep Learning", chapter 5 ("Why are deep neural
networks hard to train?"): 1,000 training images, a network with 6 hidden
layers of 30 sigmoid units and a softmax output, trained with cross-entropy by
SGD with batch size 1 and lr 0.01.  The speed of learning of hidden layer l is
measured as ||W_l(end of epoch) - W_l(start of epoch)||_F, the Frobenius norm
of the change of its incoming weights over one epoch (also recorded: the
Frobenius norm of dL/dW_l averaged over the epoch's steps).  Initialisation
as Nielsen's: weights N(0, 1/fan_in), biases N(0, 1).

Batch Normalization cannot train with batch size 1 (a batch of one has no
variance to normalise by), so the design is:

    plain           no BN, batch size 1, lr 0.01 (the experiment as Nielsen ran it)
    plain_batch10   no BN, batch size 10, lr 0.1 (control: the same batches as bn)
    bn              Linear(no bias) -> BN -> Sigmoid, batch size 10, lr 0.1

With the loss averaged over the batch, one epoch at batch size B and lr
B * 0.01 adds up (to first order) the same total step, 0.01 times the sum of
the per-example gradients, as one epoch at batch size 1 and lr 0.01; the
control shows that the batch size alone does not close the gap, so what does
is BN.  All three start from the same weights (the BN network without the
hidden biases, which BN's beta replaces).

What to look for (log scale): without BN the layer nearest the output learns
orders of magnitude faster than the first; with BN the six curves lie close.
"""
import copy
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

NETWORKS = ("plain", "plain_batch10", "bn")


def parse_args(argv=None):
    p = demo_parser(__doc__.split("\n\n")[0], "runs/learning_speed")
    p.add_argument("--dataset", choices=["auto", "mnist", "mnist-t10k", "digits"], default="auto",
                   help="auto: MNIST when its files are found locally, else digits; mnist-t10k: the "
                        "official MNIST test images (the training images are not needed)")
    p.add_argument("--data-root", default=None, help="where MNIST files are looked for")
    p.add_argument("--train-size", type=int, default=1000, help="training images (the first of the split)")
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--lr", type=float, default=0.01, help="lr of the plain network at batch size 1")
    p.add_argument("--hidden", type=int, default=30)
    p.add_argument("--depth", type=int, default=6, help="hidden layers")
    p.add_argument("--bn-batch-size", type=int, default=10,
                   help="batch size of the BN network and the plain control; their lr is lr * this")
    args = p.parse_args(argv)
    if args.quick:
        args.epochs, args.train_size = min(args.epochs, 3), min(args.train_size, 300)
    require_at_least(p, args, ("train_size", "epochs", "hidden", "depth"), 1)
    if args.bn_batch_size < 2:
        p.error(f"--bn-batch-size must be at least 2 (BN needs more than one example), got {args.bn_batch_size}")
    return args


# ---------------------------------------------------------------------- networks
def build_networks(in_features, hidden, depth, classes):
    """The plain network and its BN twin with identical weights; returns (networks, hidden Linear layers).

    plain: (Linear -> Sigmoid) x depth -> Linear;  bn: (Linear(no bias) -> BN -> Sigmoid) x depth -> Linear.
    Weights N(0, 1/fan_in) (lecun_normal_), biases N(0, 1), as in Nielsen's network2.py.
    """
    sizes = [in_features] + [hidden] * depth
    plain_layers, bn_layers = [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        dense, dense_no_bias = nn.Linear(fan_in, fan_out), nn.Linear(fan_in, fan_out, bias=False)
        nn.init.lecun_normal_(dense.weight)
        nn.init.normal_(dense.bias)
        dense_no_bias.weight.data[...] = dense.weight.data
        plain_layers += [dense, nn.Sigmoid()]
        bn_layers += [dense_no_bias, nn.BatchNorm1d(fan_out), nn.Sigmoid()]
    head = nn.Linear(hidden, classes)
    nn.init.lecun_normal_(head.weight)
    nn.init.normal_(head.bias)
    plain = nn.Sequential(*plain_layers, head)
    bn = nn.Sequential(*bn_layers, copy.deepcopy(head))
    return {"plain": plain, "plain_batch10": copy.deepcopy(plain), "bn": bn}


def hidden_weights(net):
    """The weight matrices feeding the hidden layers, first to last (the output layer excluded)."""
    return [layer.weight for layer in net if isinstance(layer, nn.Linear)][:-1]


def frobenius(array):
    """||array||_F of a backend (NumPy or CuPy) array."""
    return float((array * array).sum()) ** 0.5


@tg.no_grad()
def evaluate(net, dataset, device):
    """(cross-entropy, accuracy) on the whole set, in inference mode."""
    net.eval()
    logits = net(tg.tensor(dataset.images, device=device))
    labels = tg.tensor(dataset.labels, device=device)
    loss = F.cross_entropy(logits, labels).item()
    accuracy = float((tg.backend.to_numpy(logits.data.argmax(axis=1)) == dataset.labels).mean())
    net.train()
    return loss, accuracy


def train_epoch(net, optimizer, loader):
    """One epoch of SGD; returns per hidden layer the weight change ||dW||_F and the mean ||grad W||_F."""
    weights = hidden_weights(net)
    before = [w.data.copy() for w in weights]
    gradient_norms = np.zeros(len(weights))
    steps = 0
    for images, labels in loader:
        loss = F.cross_entropy(net(images), labels)
        optimizer.zero_grad()
        loss.backward()
        gradient_norms += [frobenius(w.grad.data) for w in weights]
        optimizer.step()
        steps += 1
    changes = [frobenius(w.data - b) for w, b in zip(weights, before)]
    return changes, (gradient_norms / steps).tolist()


# ---------------------------------------------------------------------- the run
def run(args):
    tg.manual_seed(args.seed)
    train, _, dataset = load_dataset(args.dataset, args.data_root, args.seed)
    if len(train) < args.train_size:
        raise ValueError(f"--train-size {args.train_size} exceeds the {len(train)} training images of "
                         f"{dataset['name']}")
    train = data.ArrayDataset(train.images[:args.train_size], train.labels[:args.train_size])
    dataset = {**dataset, "train_size": args.train_size, "used": f"the first {args.train_size} training images"}
    classes = int(train.labels.max()) + 1
    nets = build_networks(dataset["input_features"], args.hidden, args.depth, classes)
    schedule = {"plain": (1, args.lr), "plain_batch10": (args.bn_batch_size, args.lr * args.bn_batch_size),
                "bn": (args.bn_batch_size, args.lr * args.bn_batch_size)}
    records = {}
    for name, net in nets.items():
        net.to(args.device)
        batch_size, lr = schedule[name]
        records[name] = {"batch_size": batch_size, "lr": lr, "weight_change": [], "gradient_norm": [],
                         "train_loss": [], "train_accuracy": []}
    optimizers = {name: optim.SGD(net.parameters(), lr=schedule[name][1]) for name, net in nets.items()}
    # Each network gets its own loader with the same seed: plain_batch10 and bn see the same batches.
    loaders = {name: data.DataLoader(train, schedule[name][0], seed=args.seed, device=args.device)
               for name in NETWORKS}

    progress = Progress(args.epochs, not args.no_progress)
    started = time.perf_counter()
    for name in NETWORKS:
        loss, accuracy = evaluate(nets[name], train, args.device)
        records[name]["train_loss"].append(loss)
        records[name]["train_accuracy"].append(accuracy)
    for epoch in range(1, args.epochs + 1):
        for name in NETWORKS:
            record = records[name]
            changes, gradients = train_epoch(nets[name], optimizers[name], loaders[name])
            record["weight_change"].append(changes)
            record["gradient_norm"].append(gradients)
            loss, accuracy = evaluate(nets[name], train, args.device)
            record["train_loss"].append(loss)
            record["train_accuracy"].append(accuracy)
        progress.update(epoch, "  ".join(f"{n} acc {records[n]['train_accuracy'][-1]:.3f}" for n in NETWORKS))
    progress.close()
    seconds = time.perf_counter() - started

    for record in records.values():
        change = np.array(record["weight_change"])           # (epochs, layers)
        # per-layer series, as lists beside "epochs": layer l's speed over the epochs
        record["weight_change"] = change.T.tolist()
        record["gradient_norm"] = np.array(record["gradient_norm"]).T.tolist()
        record["last_over_first"] = (change[:, -1] / change[:, 0]).tolist()
        record["mean_last_over_first"] = float(np.mean(change[:, -1] / change[:, 0]))
    return {"config": {**vars(args), "classes": classes}, "dataset": dataset,
            "speed": "weight_change[l][e]: ||W_l after epoch e+1 - W_l before it||_F for hidden layer l+1; "
                     "gradient_norm[l][e]: the mean over epoch e+1's steps of ||dL/dW_l||_F",
            "epochs": list(range(1, args.epochs + 1)), **records, "seconds": round(seconds, 1)}


# ---------------------------------------------------------------------- output
TITLES = {"plain": "without BN, batch 1, lr {lr:g}", "plain_batch10": "without BN, batch {b}, lr {lr:g} (control)",
          "bn": "with BN, batch {b}, lr {lr:g}"}


def plot(results, path):
    plt = pyplot()
    epochs = results["epochs"]
    fig, axes = plt.subplots(1, 4, figsize=(18, 4.2))
    colours = plt.cm.viridis(np.linspace(0, 0.9, results["config"]["depth"]))
    change_axes = axes[:3]
    for ax, name in zip(change_axes, NETWORKS):
        record = results[name]
        for layer, (curve, colour) in enumerate(zip(record["weight_change"], colours)):
            ax.plot(epochs, curve, "-", color=colour, label=f"hidden layer {layer + 1}")
        ax.set_yscale("log")
        ax.set(xlabel="epoch", title=TITLES[name].format(lr=record["lr"], b=record["batch_size"]))
        ax.grid(alpha=0.3, which="both")
    change_axes[0].set_ylabel("||weight change over the epoch||_F")
    lows = min(min(min(c) for c in results[n]["weight_change"]) for n in NETWORKS)
    highs = max(max(max(c) for c in results[n]["weight_change"]) for n in NETWORKS)
    for ax in change_axes:
        ax.set_ylim(lows / 2, highs * 2)
    change_axes[0].legend(fontsize=7, loc="lower right")
    ax = axes[3]
    for name, style in zip(NETWORKS, ("--", ":", "-")):
        ax.plot([0] + epochs, results[name]["train_accuracy"], style, label=name)
    ax.set(xlabel="epoch", ylabel="training accuracy", title="training accuracy", ylim=(0, 1.02))
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.suptitle(f"Speed of learning per hidden layer ({results['config']['depth']} x {results['config']['hidden']} "
                 f"sigmoid units), {results['dataset']['train_size']} {results['dataset']['name']} images",
                 fontsize=11)
    save_figure(fig, path, dpi=110)


def main(argv=None):
    args = parse_args(argv)
    results = run(args)
    results = save_run(args.out, "learning_speed", results.pop("config"), results, plot)
    for name in NETWORKS:
        last_epoch = [curve[-1] for curve in results[name]["weight_change"]]
        print(f"{name:<14} last epoch weight change per hidden layer: "
              + " ".join(f"{v:.2e}" for v in last_epoch)
              + f"   last/first mean over epochs {results[name]['mean_last_over_first']:.1f}"
              + f"   train acc {results[name]['train_accuracy'][-1]:.3f}")
    print(f"({results['seconds']} s)")
    return results


if __name__ == "__main__":
    main()
