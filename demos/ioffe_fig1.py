"""Figure 1 of Ioffe & Szegedy (2015), rerun with tinygrad_bn.

    python demos/ioffe_fig1.py                  # MNIST if its files are found, else the offline digits
    python demos/ioffe_fig1.py --quick          # a short smoke run
    python demos/ioffe_fig1.py --lr 0.01 --init-std 0.05 --population-stats both

Section 4.1 of the paper: a network with 3 fully connected hidden layers of
100 sigmoid units and a 10-way softmax output, trained with cross-entropy by
plain SGD on mini-batches of 60 for 50,000 steps, once as it is and once with
Batch Normalization inserted before each hidden nonlinearity,
z = g(BN(Wu)) (the BN network drops those layers' biases: BN's beta replaces
them).  Both networks start from the same weights and see the same batches.

Every ``--eval-every`` steps, and every ``--early-eval-every`` steps over the
first ``--early-steps`` (where the networks differ most), the demo records
for both networks
(a) the test accuracy, and
(b, c) the 15th, 50th and 85th percentiles of the input to one fixed sigmoid
    of the last hidden layer over a fixed held-out batch.
The paper's inference network uses population statistics (Algorithm 2:
averages of the batch statistics over training mini-batches, recomputed for
the trained network).  The default here is the running averages that
``BatchNorm1d.eval()`` uses (PyTorch's inference, and what a user of the
library gets); ``--population-stats recompute`` uses Algorithm 2 instead and
``both`` draws the BN test accuracy with each, in one run.  The paper does not
give its learning rate or the scale of its Gaussian initial weights; lr 0.5 and N(0, 0.1^2) are this
demo's choice (``--lr``, ``--init-std``).
It writes ``ioffe_fig1.png`` (the paper's three panels, plus the first steps
enlarged) and ``ioffe_fig1.json`` (config, versions, data set, every curve)
into ``--out``.
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
from demos.common import (STYLE, Progress, add_dataset_flags, demo_parser, load_dataset, pyplot,  # noqa: E402
                          require_at_least, restored, save_figure, save_run, style)

NETWORKS = ("plain", "bn")
PERCENTILES = (15, 50, 85)
ACCURACY_LEVEL = 0.9                 # "steps to reach 0.9 test accuracy", a headline number
PAPER_ACCURACY_AXIS = (0.7, 1.0)     # the y range of the paper's Figure 1(a)


def parse_args(argv=None):
    p = demo_parser(__doc__.split("\n\n")[0], "runs/ioffe_fig1")
    add_dataset_flags(p)
    p.add_argument("--steps", type=int, default=50_000)
    p.add_argument("--batch-size", type=int, default=60)
    p.add_argument("--lr", type=float, default=0.5)
    p.add_argument("--init-std", type=float, default=0.1, help="std of the Gaussian initial weights")
    p.add_argument("--hidden", type=int, default=100)
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--early-steps", type=int, default=2000, help="steps evaluated more often")
    p.add_argument("--early-eval-every", type=int, default=50)
    p.add_argument("--probe-size", type=int, default=1000,
                   help="size of the fixed held-out batch for the sigmoid-input percentiles")
    p.add_argument("--population-stats", choices=["running", "recompute", "both"], default="running",
                   help="BN inference statistics: running averages, Algorithm 2 over training batches, or both")
    p.add_argument("--population-batches", type=int, default=100,
                   help="training batches averaged by Algorithm 2")
    args = p.parse_args(argv)
    if args.quick:
        args.steps, args.eval_every = min(args.steps, 600), min(args.eval_every, 100)
        args.early_steps, args.early_eval_every = min(args.early_steps, 200), min(args.early_eval_every, 25)
    require_at_least(p, args, ("steps", "batch_size", "eval_every", "early_eval_every", "hidden", "probe_size",
                                "population_batches"), 1)
    return args


def evaluation_steps(steps, every, early_steps, early_every):
    """The steps after which the networks are evaluated: 0, dense up to ``early_steps``, then every ``every``."""
    early = range(0, min(early_steps, steps) + 1, early_every)
    return sorted({*early, *range(0, steps + 1, every), steps})


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
        predictions = net(images).detach().argmax(1).cpu().numpy()
        correct += int((predictions == labels.cpu().numpy()).sum())
    net.train()
    return correct / len(dataset.labels)


@tg.no_grad()
def sigmoid_input_percentiles(net, probe, unit):
    """15th/50th/85th percentiles of one sigmoid's input over the probe batch (inference mode)."""
    net.eval()
    z = last_sigmoid_input(net, probe).detach()[:, unit].cpu().numpy()
    net.train()
    return [float(v) for v in np.percentile(z, PERCENTILES)]


def first_step_reaching(steps, values, level):
    """The first evaluated step whose value is at least ``level`` (None if none is)."""
    return next((step for step, value in zip(steps, values) if value >= level), None)


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
    population_loader = data.DataLoader(train, args.batch_size, shuffle=True, seed=args.seed + 1,
                                        device=args.device)
    schedule = evaluation_steps(args.steps, args.eval_every, args.early_steps, args.early_eval_every)
    population_curve = args.population_stats == "both"

    curves = {name: {"test_accuracy": [], "train_loss": [], "percentiles": {f"p{q}": [] for q in PERCENTILES}}
              for name in NETWORKS}
    if population_curve:
        curves["bn"]["test_accuracy_population_stats"] = []
    losses_since_eval = {name: [] for name in NETWORKS}

    def population_batches():
        return (images for _, (images, _) in zip(range(args.population_batches), population_loader))

    def evaluate():
        for name, net in nets.items():
            curve = curves[name]
            if name == "bn" and args.population_stats == "recompute":
                nn.recompute_population_stats(net, population_batches())
            curve["test_accuracy"].append(accuracy(net, test, args.device))
            for q, value in zip(PERCENTILES, sigmoid_input_percentiles(net, probe, unit)):
                curve["percentiles"][f"p{q}"].append(value)
            if name == "bn" and population_curve:
                with restored(net):       # training goes on with the running averages untouched
                    nn.recompute_population_stats(net, population_batches())
                    curve["test_accuracy_population_stats"].append(accuracy(net, test, args.device))
            seen = losses_since_eval[name]
            curve["train_loss"].append(tg.stack(seen).double().mean().item() if seen else None)
            seen.clear()

    progress = Progress(args.steps, not args.no_progress)
    loader = data.DataLoader(train, args.batch_size, shuffle=True, drop_last=True, seed=args.seed,
                             device=args.device)
    started = time.perf_counter()
    evaluate()
    step, pending = 0, set(schedule[1:])
    while step < args.steps:
        for images, labels in loader:
            step += 1
            for name, net in nets.items():
                loss = F.cross_entropy(net(images), labels)
                optimizers[name].zero_grad()
                loss.backward()
                optimizers[name].step()
                losses_since_eval[name].append(loss.detach())    # on the device; read at evaluation
            if step in pending:
                evaluate()
                progress.update(step, "  ".join(f"{name} acc {curves[name]['test_accuracy'][-1]:.4f}"
                                                for name in NETWORKS))
            if step == args.steps:
                break
    progress.close()
    seconds = time.perf_counter() - started

    results = {
        "config": {**vars(args), "sigmoid_unit": unit, "classes": classes},
        "dataset": dataset,
        "steps": schedule,
        "percentiles": list(PERCENTILES),
        "bn_inference_statistics": {"running": "running averages (BatchNorm1d.eval())",
                                    "recompute": "Algorithm 2 (population statistics)",
                                    "both": "test_accuracy: running averages; test_accuracy_population_stats: "
                                            "Algorithm 2"}[args.population_stats],
        "seconds": round(seconds, 1),
    }
    for name in NETWORKS:
        curve = curves[name]
        results[name] = {**curve, "final_test_accuracy": curve["test_accuracy"][-1],
                         f"first_step_at_{ACCURACY_LEVEL}": first_step_reaching(schedule, curve["test_accuracy"],
                                                                                 ACCURACY_LEVEL)}
    if population_curve:
        results["bn"]["final_test_accuracy_population_stats"] = curves["bn"]["test_accuracy_population_stats"][-1]
    return results


# ---------------------------------------------------------------------- numbers that hold on any machine
def headline(record):
    """The numbers docs/reproduction.md reports, as median and range over seeds."""
    numbers = {}
    for name in NETWORKS:
        numbers[f"{name} final test accuracy"] = record[name]["final_test_accuracy"]
        numbers[f"{name} first step at {ACCURACY_LEVEL} test accuracy"] = record[name][f"first_step_at_{ACCURACY_LEVEL}"]
    if "final_test_accuracy_population_stats" in record["bn"]:
        numbers["bn final test accuracy, Algorithm 2"] = record["bn"]["final_test_accuracy_population_stats"]
    return numbers


def quick_claims(record):
    """What ``python -m demos.all --check`` asserts of the quick run (600 steps on digits)."""
    plain, bn = record["plain"], record["bn"]
    early = record["steps"].index(100)
    return {
        "Figure 1 (quick): with BN the test accuracy after 600 steps is above 0.9":
            bn["final_test_accuracy"] > 0.9,
        "Figure 1 (quick): with BN the test accuracy at step 100 is higher than without BN":
            bn["test_accuracy"][early] > plain["test_accuracy"][early],
    }


# ---------------------------------------------------------------------- output
def plot(results, path):
    """(a) test accuracy on the paper's axes, (a') the first steps, (b) without BN, (c) with BN."""
    plt = pyplot()
    steps = np.asarray(results["steps"])
    config = results["config"]
    fig, axes = plt.subplots(1, 4, figsize=(18, 4.2), gridspec_kw={"width_ratios": [1.2, 1, 1, 1]})
    ax_full, ax_early = axes[0], axes[1]
    early = steps <= config["early_steps"]
    lines, off_axis = [], []
    for name in NETWORKS:
        both = "test_accuracy_population_stats" in results[name]
        label = STYLE[name]["label"] + (" (running averages)" if both else "")
        accuracy_curve = np.asarray(results[name]["test_accuracy"])
        lines += ax_full.plot(steps, accuracy_curve, **style(name, label=label))
        ax_early.plot(steps[early], accuracy_curve[early], **style(name, marker=".", markersize=3))
        if both:
            population = np.asarray(results[name]["test_accuracy_population_stats"])
            lines += ax_full.plot(steps, population, **style(name, linestyle=":", linewidth=2,
                                                             label="with BN (Algorithm 2 population statistics)"))
            ax_early.plot(steps[early], population[early], **style(name, linestyle=":", linewidth=2))
        below = (accuracy_curve < PAPER_ACCURACY_AXIS[0]) & (steps > 0)     # step 0 is chance for both
        if below.any():                                   # say where a curve is off the paper's axis
            last_below = int(steps[np.nonzero(below)[0][-1]])
            text = "below 0.7 throughout" if below[1:].all() else f"below 0.7 until step {last_below:,}"
            off_axis.append(f"{STYLE[name]['label']} {text}")
    ax_full.set(title="\n".join(["(a) test accuracy (the paper's axes)", *off_axis]), xlabel="training steps",
                ylabel="test accuracy", ylim=PAPER_ACCURACY_AXIS)        # the notes go in the title, off the data
    ax_early.set(title=f"(a') the first {config['early_steps']:,} steps, every {config['early_eval_every']}",
                 xlabel="training steps", ylim=(0, 1))
    lows = [min(results[n]["percentiles"]["p15"]) for n in NETWORKS]
    highs = [max(results[n]["percentiles"]["p85"]) for n in NETWORKS]
    limits = (min(lows) - 0.2, max(highs) + 0.2)
    for ax, name, title in ((axes[2], "plain", "(b) without BN"), (axes[3], "bn", "(c) with BN")):
        for q in PERCENTILES:
            ax.plot(steps, results[name]["percentiles"][f"p{q}"], color=STYLE[name]["color"],
                             linewidth=1.8 if q == 50 else 0.8)
        ax.set(title=f"{title}: input to one last-layer sigmoid", xlabel="training steps", ylim=limits)
    percentile_keys = [plt.Line2D([], [], color="k", linewidth=0.8, label="15th and 85th percentiles"),
                       plt.Line2D([], [], color="k", linewidth=1.8, label="median")]
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.legend(handles=lines + percentile_keys, loc="lower center", ncol=len(lines) + 2, fontsize=9, frameon=False)
    fig.suptitle(f"Ioffe & Szegedy (2015) Figure 1, rerun on {results['dataset']['name']} "
                 f"(lr {config['lr']}, init std {config['init_std']}, seed {config['seed']})", fontsize=10)
    save_figure(fig, path, rect=(0, 0.07, 1, 1))


def main(argv=None):
    args = parse_args(argv)
    results = run(args)
    results = save_run(args.out, "ioffe_fig1", results.pop("config"), results, plot)
    print(f"test accuracy after {args.steps} steps: without BN {results['plain']['final_test_accuracy']:.4f}, "
          f"with BN {results['bn']['final_test_accuracy']:.4f}  ({results['seconds']} s)")
    return results


if __name__ == "__main__":
    main()
