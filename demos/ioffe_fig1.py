"""Figure 1 of Ioffe & Szegedy (2015), rerun with tinygrad_bn.

    python demos/ioffe_fig1.py                  # MNIST if its files are found, else the offline digits
    python demos/ioffe_fig1.py --quick          # a short smoke run
    python demos/ioffe_fig1.py --lr 0.01 --init-std 0.05

Section 4.1 of the paper: a network with 3 fully connected hidden layers of
100 sigmoid units and a 10-way softmax output, trained with cross-entropy by
plain SGD on mini-batches of 60 for 50,000 steps, once as it is and once with
Batch Normalization inserted before each hidden nonlinearity,
z = g(BN(Wu)) (the BN network drops those layers' biases: BN's beta replaces
them).  Both networks start from the same weights and see the same batches.

Every ``--eval-every`` steps the demo records, for both networks,
(a) the test accuracy, with BN using its population statistics (running
    averages, or Algorithm 2 with ``--population-stats recompute``), and
(b, c) the 15th, 50th and 85th percentiles of the input to one fixed sigmoid
    of the last hidden layer over a fixed held-out batch.
It writes ``ioffe_fig1.png`` (three panels laid out like the paper's) and
``ioffe_fig1.json`` (config, versions, data set, every curve) into ``--out``.
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

NETWORKS = ("plain", "bn")
PERCENTILES = (15, 50, 85)


def parse_args(argv=None):
    p = demo_parser(__doc__.split("\n\n")[0], "runs/ioffe_fig1")
    p.add_argument("--dataset", choices=["auto", "mnist", "mnist-t10k", "digits"], default="auto",
                   help="auto: MNIST when its four files are found locally, else digits; "
                        "mnist-t10k: the official 10,000-image MNIST test set split 8,000/2,000")
    p.add_argument("--data-root", default=None, help="where MNIST files are looked for "
                                                     "(default: $TINYGRAD_BN_DATA or the user cache)")
    p.add_argument("--steps", type=int, default=50_000)
    p.add_argument("--batch-size", type=int, default=60)
    p.add_argument("--lr", type=float, default=0.5)
    p.add_argument("--init-std", type=float, default=0.1, help="std of the Gaussian initial weights")
    p.add_argument("--hidden", type=int, default=100)
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--probe-size", type=int, default=1000,
                   help="size of the fixed held-out batch for the sigmoid-input percentiles")
    p.add_argument("--population-stats", choices=["running", "recompute"], default="running",
                   help="BN inference statistics: running averages, or Algorithm 2 over training batches")
    p.add_argument("--population-batches", type=int, default=100,
                   help="training batches averaged by --population-stats recompute")
    args = p.parse_args(argv)
    if args.quick:
        args.steps, args.eval_every = min(args.steps, 600), min(args.eval_every, 100)
    require_at_least(p, args, ("steps", "batch_size", "eval_every", "hidden", "probe_size", "population_batches"), 1)
    return args


# ---------------------------------------------------------------------- data
def load_dataset(name, root=None, seed=0):
    """(train, test, description) for ``--dataset``; ``auto`` says which it chose."""
    if name == "auto":
        name = "mnist" if data.mnist_available(root, train=True) and data.mnist_available(root, train=False) \
            else "digits"
        print(f"--dataset auto: using {name}"
              + ("" if name == "mnist" else " (MNIST files not found locally; "
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
                f"by a permutation with seed {seed}; NOT the paper's 60,000-image training set")
    else:
        train, test = data.Digits(train=True), data.Digits(train=False)
        note = "scikit-learn's handwritten digits (1,797 images, 8x8), NOT MNIST"
    description = {"name": name, "description": note, "train_size": len(train.labels),
                   "test_size": len(test.labels), "input_features": int(train.images[0].size)}
    return train, test, description


# ---------------------------------------------------------------------- networks
def build_networks(in_features, hidden, classes, init_std):
    """The plain network and its BN twin, with identical initial weights.

    plain: (Linear -> Sigmoid) x 3 -> Linear;  bn: (Linear without bias -> BN -> Sigmoid) x 3 -> Linear.
    Weights ~ N(0, init_std^2), biases 0 (drawn from the seeded library generator).
    """
    sizes = [in_features, hidden, hidden, hidden]
    plain_layers, bn_layers = [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        weight = tg.randn(fan_out, fan_in) * init_std
        dense, dense_no_bias = nn.Linear(fan_in, fan_out), nn.Linear(fan_in, fan_out, bias=False)
        dense.weight.data[...] = weight.data
        dense_no_bias.weight.data[...] = weight.data
        nn.init.zeros_(dense.bias)
        plain_layers += [dense, nn.Sigmoid()]
        bn_layers += [dense_no_bias, nn.BatchNorm1d(fan_out), nn.Sigmoid()]
    weight = tg.randn(classes, hidden) * init_std
    heads = nn.Linear(hidden, classes), nn.Linear(hidden, classes)
    for head in heads:
        head.weight.data[...] = weight.data
        nn.init.zeros_(head.bias)
    return {"plain": nn.Sequential(*plain_layers, heads[0]), "bn": nn.Sequential(*bn_layers, heads[1])}


def last_sigmoid_input(net, x):
    """The input to the last hidden layer's sigmoids (z = BN(Wu) or Wu + b)."""
    layers = list(net)
    last = max(i for i, layer in enumerate(layers) if isinstance(layer, nn.Sigmoid))
    for layer in layers[:last]:
        x = layer(x)
    return x


@tg.no_grad()
def accuracy(net, dataset, device, batch_size=1000):
    """Fraction of ``dataset`` classified correctly, in inference mode."""
    net.eval()
    correct = 0
    for images, labels in data.DataLoader(dataset, batch_size, shuffle=False, device=device):
        predictions = tg.backend.to_numpy(net(images).data.argmax(axis=1))
        correct += int((predictions == tg.backend.to_numpy(labels.data)).sum())
    net.train()
    return correct / len(dataset.labels)


@tg.no_grad()
def sigmoid_input_percentiles(net, probe, unit):
    """15th/50th/85th percentiles of one sigmoid's input over the probe batch (inference mode)."""
    net.eval()
    z = tg.backend.to_numpy(last_sigmoid_input(net, probe).data[:, unit])
    net.train()
    return [float(v) for v in np.percentile(z, PERCENTILES)]


# ---------------------------------------------------------------------- the run
def run(args):
    tg.manual_seed(args.seed)
    train, test, dataset = load_dataset(args.dataset, args.data_root, args.seed)
    classes = int(max(train.labels.max(), test.labels.max())) + 1
    nets = build_networks(dataset["input_features"], args.hidden, classes, args.init_std)
    for net in nets.values():
        net.to(args.device)
    optimizers = {name: optim.SGD(net.parameters(), lr=args.lr) for name, net in nets.items()}
    rng = np.random.default_rng(args.seed)
    probe_rows = rng.permutation(len(test.labels))[:args.probe_size]
    probe = tg.tensor(test.images[probe_rows], device=args.device)
    unit = int(rng.integers(args.hidden))
    population_loader = data.DataLoader(train, args.batch_size, seed=args.seed + 1, device=args.device)

    curves = {name: {"test_accuracy": [], "train_loss": [], "percentiles": {f"p{q}": [] for q in PERCENTILES}}
              for name in NETWORKS}
    steps, losses_since_eval = [], {name: [] for name in NETWORKS}

    def evaluate(step):
        if args.population_stats == "recompute":
            batches = (images for _, (images, _) in zip(range(args.population_batches), population_loader))
            nn.recompute_population_stats(nets["bn"], batches)
        steps.append(step)
        for name, net in nets.items():
            curve = curves[name]
            curve["test_accuracy"].append(accuracy(net, test, args.device))
            for q, value in zip(PERCENTILES, sigmoid_input_percentiles(net, probe, unit)):
                curve["percentiles"][f"p{q}"].append(value)
            seen = losses_since_eval[name]
            curve["train_loss"].append(float(np.mean(seen)) if seen else None)
            seen.clear()

    progress = Progress(args.steps, not args.no_progress)
    loader = data.DataLoader(train, args.batch_size, drop_last=True, seed=args.seed, device=args.device)
    started = time.perf_counter()
    evaluate(0)
    step = 0
    while step < args.steps:
        for images, labels in loader:
            step += 1
            for name, net in nets.items():
                loss = F.cross_entropy(net(images), labels)
                optimizers[name].zero_grad()
                loss.backward()
                optimizers[name].step()
                losses_since_eval[name].append(loss.item())
            if step % args.eval_every == 0 or step == args.steps:
                evaluate(step)
                progress.update(step, "  ".join(f"{name} acc {curves[name]['test_accuracy'][-1]:.4f}"
                                                for name in NETWORKS))
            if step == args.steps:
                break
    progress.close()
    seconds = time.perf_counter() - started

    results = {
        "config": {**vars(args), "sigmoid_unit": unit, "classes": classes},
        "dataset": dataset,
        "steps": steps,
        "percentiles": list(PERCENTILES),
        "seconds": round(seconds, 1),
    }
    for name in NETWORKS:
        results[name] = {**curves[name], "final_test_accuracy": curves[name]["test_accuracy"][-1]}
    return results


# ---------------------------------------------------------------------- output
def plot(results, path):
    """Three panels as in the paper: (a) test accuracy, (b) without BN, (c) with BN."""
    plt = pyplot()
    steps = np.asarray(results["steps"])
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for name, label, style in (("plain", "Without BN", "--"), ("bn", "With BN", "-")):
        axes[0].plot(steps, results[name]["test_accuracy"], style, label=label)
    axes[0].set(title="(a) test accuracy", xlabel="training steps", ylabel="accuracy")
    axes[0].legend(loc="lower right")
    axes[0].grid(alpha=0.3)
    lows = [min(results[n]["percentiles"]["p15"]) for n in NETWORKS]
    highs = [max(results[n]["percentiles"]["p85"]) for n in NETWORKS]
    limits = (min(lows) - 0.2, max(highs) + 0.2)
    for ax, name, title in ((axes[1], "plain", "(b) without BN"), (axes[2], "bn", "(c) with BN")):
        for q in PERCENTILES:
            ax.plot(steps, results[name]["percentiles"][f"p{q}"], color="k",
                    linewidth=1.6 if q == 50 else 0.9, label=f"{q}th percentile")
        ax.set(title=f"{title}: input to one last-layer sigmoid", xlabel="training steps", ylim=limits)
        ax.grid(alpha=0.3)
    axes[1].legend(loc="best", fontsize=8)
    fig.suptitle(f"Ioffe & Szegedy (2015) Figure 1, rerun on {results['dataset']['name']} "
                 f"(lr {results['config']['lr']}, init std {results['config']['init_std']})", fontsize=10)
    save_figure(fig, path)


def main(argv=None):
    args = parse_args(argv)
    results = run(args)
    results = save_run(args.out, "ioffe_fig1", results.pop("config"), results, plot)
    print(f"test accuracy after {args.steps} steps: without BN {results['plain']['final_test_accuracy']:.4f}, "
          f"with BN {results['bn']['final_test_accuracy']:.4f}  ({results['seconds']} s)")
    return results


if __name__ == "__main__":
    main()
