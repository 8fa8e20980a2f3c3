"""Why normalise the inputs: a linear neuron's loss surface, and the order of the examples.

    python demos/input_normalization.py            # default run (about a minute)
    python demos/input_normalization.py --quick    # a short smoke run

LeCun, Bottou, Orr & Mueller, "Efficient BackProp" (1998), sections 4.2
(shuffling the examples), 4.3 (normalising the inputs) and 5.1-5.2 (the
Hessian sets the largest learning rate and the speed of convergence).

Part 1, one linear neuron.  Two Gaussian classes in 2-D (targets -1 and +1),
seen through five preprocessings: raw (a positive offset and very different
scales per feature), centred, standardised, PCA-whitened and ZCA-whitened
(``data.Center``, ``Standardize``, ``PCAWhiten``, ``ZCAWhiten``).  The neuron
is y = w . x with two weights and NO bias, so the loss

    L(w) = F.mse_loss(X w, t) = (1/N) sum_n (w . x_n - t_n)^2

is a quadratic in exactly the two weights the contour plots show, with
Hessian H = (2/N) X^T X.  Gradient descent on a quadratic is stable iff
lr < 2 / lambda_max(H); it converges in about lambda_max / lambda_min steps
per e-fold, so the conditioning of X^T X, which preprocessing changes, sets
the speed.  The demo draws the GD (full batch) and SGD (one example per
step, reshuffled every epoch) paths on each contour plot, all starting where
the excess loss L - L* is 1 (half of it along each eigenvector of H), counts
the steps until the excess loss falls below ``--tol``, and
measures the largest stable learning rate by bisection on GD's divergence,
against 2 / lambda_max(H).

Part 2, the order of the examples.  A small MLP on the digits trained by
mini-batch SGD with the examples sorted by class, in one fixed random order,
and re-permuted every epoch (the DataLoader's ``shuffle=True``); training loss
per epoch for the three orders.

What to look for: a zig-zag across the narrow valley for raw inputs, fewer
steps as the preprocessing removes the offset, then the scale, then the
correlation; measured lr_max on 2/lambda_max; the sorted order failing.
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

PREPROCESSINGS = {"raw": None, "centred": data.Center, "standardised": data.Standardize,
                  "pca_whitened": data.PCAWhiten, "zca_whitened": data.ZCAWhiten}
ORDERS = ("sorted", "fixed", "reshuffled")
# No BN in this demo, so none of its colours is red or blue: those mean "without BN" and "with BN" elsewhere.
GD_COLOUR, BAR_COLOURS = "black", ("tab:purple", "tab:gray", "tab:orange")
ORDER_COLOURS = {"sorted": "tab:brown", "fixed": "tab:olive", "reshuffled": "tab:green"}


def parse_args(argv=None):
    p = demo_parser(__doc__.split("\n\n")[0], "runs/input_normalization")
    p.add_argument("--examples", type=int, default=400, help="examples of the two Gaussian classes")
    p.add_argument("--offset", type=float, nargs=2, default=[4.0, 20.0], help="raw input offset per feature")
    p.add_argument("--scale", type=float, nargs=2, default=[1.0, 10.0], help="raw input scale per feature")
    p.add_argument("--tol", type=float, default=1e-4,
                   help="excess loss L - L* that counts as converged (it is 1 at the start)")
    p.add_argument("--max-steps", type=int, default=20_000, help="GD step budget per run")
    p.add_argument("--zigzag-fraction", type=float, default=0.95,
                   help="GD lr of the drawn paths, as a fraction of 2/lambda_max (near the limit: zig-zag)")
    p.add_argument("--sgd-fraction", type=float, default=0.1,
                   help="SGD lr as a fraction of 1/lambda_max (one example per step)")
    p.add_argument("--sgd-epochs", type=int, default=20)
    p.add_argument("--sgd-tol", type=float, default=1e-2, help="excess loss SGD must reach")
    p.add_argument("--divergence-steps", type=int, default=500,
                   help="GD steps after which a learning rate counts as stable or divergent")
    p.add_argument("--bisections", type=int, default=14, help="bisection steps for the largest stable lr")
    p.add_argument("--order-epochs", type=int, default=20)
    p.add_argument("--order-batch-size", type=int, default=10)
    p.add_argument("--order-lr", type=float, default=0.1)
    p.add_argument("--order-hidden", type=int, default=32)
    args = p.parse_args(argv)
    if args.quick:
        args.max_steps = min(args.max_steps, 2500)
        args.sgd_epochs = min(args.sgd_epochs, 2)
        args.divergence_steps = min(args.divergence_steps, 200)
        args.bisections = min(args.bisections, 7)
        args.order_epochs = min(args.order_epochs, 3)
    require_at_least(p, args, ("examples", "max_steps", "sgd_epochs", "divergence_steps", "order_epochs",
                                "order_batch_size", "order_hidden"), 1)
    return args


# ---------------------------------------------------------------------- part 1: the linear neuron
def two_gaussians(count, offset, scale, seed):
    """Raw inputs (count, 2) float64 and labels 0/1: correlated Gaussian classes, offset and scaled."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(count) % 2)
    sign = 2.0 * labels - 1.0
    noise = rng.multivariate_normal([0.0, 0.0], [[0.5, 0.3], [0.3, 0.5]], count)
    latent = sign[:, None] * np.array([0.8, 0.6]) + noise
    return latent * np.asarray(scale) + np.asarray(offset), labels.astype(np.int64)


class Quadratic:
    """L(w) = mean((X w - t)^2) in NumPy: the analysis side (optimum, Hessian, start, excess loss).

    Every run starts at ``start = w* + u_min / sqrt(lambda_min) + u_max / sqrt(lambda_max)``
    (u: unit eigenvectors of H), where both eigen-directions carry half of an
    excess loss of exactly 1, so excess losses are comparable across preprocessings.
    """

    def __init__(self, inputs, targets):
        self.inputs, self.targets = inputs, targets
        self.hessian = 2.0 * inputs.T @ inputs / len(inputs)
        self.eigenvalues, eigenvectors = np.linalg.eigh(self.hessian)          # ascending
        self.optimum = np.linalg.solve(inputs.T @ inputs, inputs.T @ targets)
        self.min_loss = self.loss(self.optimum)
        self.start = self.optimum + (eigenvectors / np.sqrt(self.eigenvalues)).sum(axis=1)

    def loss(self, w):
        residual = self.inputs @ np.asarray(w) - self.targets
        return float(np.mean(residual ** 2))

    def excess(self, w):
        """L(w) - L*: 1 at the start, 0 at the optimum."""
        return self.loss(w) - self.min_loss


def gradient_descent(inputs, targets, quadratic, lr, max_steps, tol=None, give_up=1e6):
    """Full-batch GD with the framework from ``quadratic.start``; returns the path (steps+1, 2), diverged.

    Stops when the excess loss drops below ``tol``, or rises above ``give_up`` (or stops being finite).
    """
    w = tg.tensor(quadratic.start, requires_grad=True, device=inputs.device)
    optimizer = optim.SGD([w], lr=lr)
    path = [quadratic.start]
    for _ in range(max_steps):
        loss = F.mse_loss(inputs @ w, targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        path.append(w.detach().numpy().copy())
        excess = quadratic.excess(path[-1])
        if not np.isfinite(excess) or excess > give_up:
            return np.array(path), True
        if tol is not None and excess <= tol:
            break
    return np.array(path), quadratic.excess(path[-1]) >= 1.0


def largest_stable_lr(inputs, targets, quadratic, steps, bisections):
    """The lr at which GD stops converging: halving or doubling from lr = 1, then bisection.

    A learning rate is stable when the excess loss after ``steps`` GD steps is
    below its starting value (on a quadratic every eigen-component then shrinks).
    """
    def diverges(lr):
        return gradient_descent(inputs, targets, quadratic, lr, steps)[1]

    low, high = 0.5, 1.0
    while diverges(low):
        low, high = low / 2, low
    while not diverges(high):
        low, high = high, 2 * high
    for _ in range(bisections):
        middle = (low + high) / 2
        low, high = (low, middle) if diverges(middle) else (middle, high)
    return (low + high) / 2


def steps_to_tol(path, quadratic, tol):
    """The first step whose excess loss is <= tol, or None."""
    for step, w in enumerate(path):
        if quadratic.excess(w) <= tol:
            return step
    return None


def sgd_path(dataset, quadratic, lr, epochs, seed, device):
    """SGD with one example per step, a fresh permutation each epoch (DataLoader shuffle=True)."""
    w = tg.tensor(quadratic.start, requires_grad=True, device=device)
    optimizer = optim.SGD([w], lr=lr)
    path = [quadratic.start]
    loader = data.DataLoader(dataset, 1, shuffle=True, seed=seed, device=device)
    for _ in range(epochs):
        for x, label in loader:
            loss = F.mse_loss(x @ w, label.double() * 2 - 1)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            path.append(w.detach().numpy().copy())
            if not np.isfinite(path[-1]).all():
                return np.array(path)
    return np.array(path)


def linear_neuron(args, progress):
    raw, labels = two_gaussians(args.examples, args.offset, args.scale, args.seed)
    targets_np = 2.0 * labels - 1.0
    results = {}
    for done, (name, transform) in enumerate(PREPROCESSINGS.items()):
        inputs_np = raw if transform is None else transform().fit_transform(raw)
        quadratic = Quadratic(inputs_np, targets_np)
        lam_min, lam_max = (float(v) for v in quadratic.eigenvalues)
        inputs = tg.tensor(inputs_np, device=args.device)
        targets = tg.tensor(targets_np, device=args.device)

        lr_optimal, lr_zigzag = 1.0 / lam_max, args.zigzag_fraction * 2.0 / lam_max
        optimal_path, _ = gradient_descent(inputs, targets, quadratic, lr_optimal, args.max_steps, args.tol)
        zigzag_path, _ = gradient_descent(inputs, targets, quadratic, lr_zigzag, args.max_steps, args.tol)
        lr_sgd = args.sgd_fraction / lam_max
        sgd = sgd_path(data.ArrayDataset(inputs_np, labels), quadratic, lr_sgd, args.sgd_epochs,
                       args.seed, args.device)
        lr_max = largest_stable_lr(inputs, targets, quadratic, args.divergence_steps, args.bisections)
        results[name] = {
            "hessian": quadratic.hessian.tolist(),
            "eigenvalues": [lam_min, lam_max],
            "condition_number": lam_max / lam_min,
            "optimum": quadratic.optimum.tolist(),
            "start": quadratic.start.tolist(),
            "min_loss": quadratic.min_loss,
            "lr_optimal": lr_optimal,
            "lr_zigzag": lr_zigzag,
            "lr_sgd": lr_sgd,
            "steps_gd_optimal_lr": steps_to_tol(optimal_path, quadratic, args.tol),
            "steps_gd_zigzag_lr": steps_to_tol(zigzag_path, quadratic, args.tol),
            "steps_sgd": steps_to_tol(sgd, quadratic, args.sgd_tol),
            "lr_max_measured": lr_max,
            "lr_max_theory": 2.0 / lam_max,
            "lr_max_ratio": lr_max * lam_max / 2.0,
            "gd_path": zigzag_path.tolist(),
            "sgd_path_first_epoch": sgd[:args.examples + 1].tolist(),
        }
        progress.update(done + 1, name)
    return results


# ---------------------------------------------------------------------- part 2: the order of the examples
def orderings(labels, seed):
    """Example orders: sorted by class (stable), and one fixed random permutation."""
    return {"sorted": np.argsort(labels, kind="stable"),
            "fixed": np.random.default_rng(seed).permutation(len(labels))}


@tg.no_grad()
def training_loss(net, dataset, device):
    images = tg.tensor(dataset.images, device=device)
    labels = tg.tensor(dataset.labels, device=device)
    return F.cross_entropy(net(images), labels).item()


def example_orders(args, progress, offset):
    """Train one MLP from the same initial weights with each order; full training loss after each epoch."""
    digits = data.Digits(train=True)
    train = data.ArrayDataset(data.Standardize().fit_transform(digits.images), digits.labels)
    tg.manual_seed(args.seed)
    template = nn.Sequential(nn.Linear(train.images.shape[1], args.order_hidden), nn.Tanh(),
                             nn.Linear(args.order_hidden, int(train.labels.max()) + 1))
    fixed_orders = orderings(train.labels, args.seed)
    loaders = {name: data.DataLoader(data.ArrayDataset(train.images[order], train.labels[order]),
                                     args.order_batch_size, shuffle=False, device=args.device)
               for name, order in fixed_orders.items()}
    loaders["reshuffled"] = data.DataLoader(train, args.order_batch_size, shuffle=True, seed=args.seed,
                                            device=args.device)
    curves = {}
    for done, name in enumerate(ORDERS):
        net = copy.deepcopy(template).to(args.device)
        optimizer = optim.SGD(net.parameters(), lr=args.order_lr)
        losses = [training_loss(net, train, args.device)]
        for _ in range(args.order_epochs):
            for images, labels in loaders[name]:
                loss = F.cross_entropy(net(images), labels)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            losses.append(training_loss(net, train, args.device))
        curves[name] = {"train_loss": losses, "final_train_loss": losses[-1]}
        progress.update(offset + done + 1, f"order {name}")
    return {"dataset": f"scikit-learn digits, {len(train)} training images, standardised",
            "epochs": list(range(args.order_epochs + 1)), **curves}


def run(args):
    tg.manual_seed(args.seed)
    progress = Progress(len(PREPROCESSINGS) + len(ORDERS), not args.no_progress)
    started = time.perf_counter()
    neuron = linear_neuron(args, progress)
    orders = example_orders(args, progress, len(PREPROCESSINGS))
    progress.close()
    return {"linear_neuron": neuron, "orders": orders,
            "model": "y = w . x (2 weights, no bias), loss mean((y - t)^2), Hessian (2/N) X^T X",
            "seconds": round(time.perf_counter() - started, 1)}


# ---------------------------------------------------------------------- output
TITLES = {"raw": "raw", "centred": "centred", "standardised": "standardised",
          "pca_whitened": "PCA-whitened", "zca_whitened": "ZCA-whitened"}


def contour_loss(ax, record, points, linewidth):
    """Loss contours on a square, equal-axes window around ``points`` (gradients cross contours at 90 deg)."""
    centre = (points.max(axis=0) + points.min(axis=0)) / 2
    half = 0.6 * (points.max(axis=0) - points.min(axis=0)).max()
    w1, w2 = np.meshgrid(np.linspace(centre[0] - half, centre[0] + half, 200),
                         np.linspace(centre[1] - half, centre[1] + half, 200))
    offsets = np.stack([w1, w2], axis=-1) - np.array(record["optimum"])
    excess = 0.5 * np.einsum("...i,ij,...j->...", offsets, np.array(record["hessian"]), offsets)
    ax.contour(w1, w2, excess, levels=np.geomspace(1e-3, 1, 12) * excess.max(), colors="0.6",
               linewidths=linewidth)
    ax.set_aspect("equal")
    ax.set(xlim=(centre[0] - half, centre[0] + half), ylim=(centre[1] - half, centre[1] + half))


def draw_contours(ax, name, record):
    """The loss over (w1, w2) with the GD and SGD paths; a zoom on GD's first steps when the valley is narrow."""
    gd, sgd = np.array(record["gd_path"]), np.array(record["sgd_path_first_epoch"])
    contour_loss(ax, record, np.vstack([gd, sgd, [record["optimum"]]]), 0.7)
    ax.plot(sgd[:, 0], sgd[:, 1], "-", color="tab:orange", lw=0.6, alpha=0.8, label="SGD (batch 1), first epoch")
    ax.plot(gd[:, 0], gd[:, 1], ".-", color=GD_COLOUR, lw=0.9, ms=2.5, label="GD (full batch)")
    ax.plot(*record["optimum"], "k*", ms=9)
    ax.set(xlabel="$w_1$", ylabel="$w_2$")
    ax.set_title(f"{TITLES[name]}: kappa {record['condition_number']:.0f}, "
                 f"GD {record['steps_gd_zigzag_lr']} steps", fontsize=9)
    if record["condition_number"] > 20:
        inset = ax.inset_axes([0.5, 0.03, 0.47, 0.47])
        first = gd[:30]
        contour_loss(inset, record, first, 0.5)
        inset.plot(first[:, 0], first[:, 1], ".-", color=GD_COLOUR, lw=0.8, ms=2)
        inset.set(xticks=[], yticks=[])
        inset.set_title("zoom: first 30 GD steps", fontsize=6)


def plot(results, path):
    plt = pyplot()
    neuron, orders = results["linear_neuron"], results["orders"]
    names = list(PREPROCESSINGS)
    fig = plt.figure(figsize=(17, 8.5))
    grid = fig.add_gridspec(2, 15)
    for i, name in enumerate(names):
        ax = fig.add_subplot(grid[0, 3 * i:3 * i + 3])
        draw_contours(ax, name, neuron[name])
        if i == 0:           # above the panels, off every contour and path
            fig.legend(*ax.get_legend_handles_labels(), loc="upper left", fontsize=8, frameon=False)

    ax = fig.add_subplot(grid[1, 0:5])
    positions = np.arange(len(names))
    config = results["config"]
    budgets = {"steps_gd_optimal_lr": config["max_steps"], "steps_gd_zigzag_lr": config["max_steps"],
               "steps_sgd": config["sgd_epochs"] * config["examples"]}
    columns = (("steps_gd_optimal_lr", f"GD, lr = 1/lambda_max, to {config['tol']:g}"),
               ("steps_gd_zigzag_lr", f"GD, lr of the drawn paths, to {config['tol']:g}"),
               ("steps_sgd", f"SGD (batch 1), to {config['sgd_tol']:g}"))
    for k, (key, label) in enumerate(columns):
        values = [neuron[n][key] for n in names]
        reached = [v is not None for v in values]
        x = positions + (k - 1) * 0.27
        bars = ax.bar(x[reached], [v for v in values if v is not None], 0.27, label=label, color=BAR_COLOURS[k])
        for bar, value in zip(bars, [v for v in values if v is not None]):
            ax.annotate(str(value), (bar.get_x() + 0.135, bar.get_height()), ha="center", va="bottom", fontsize=6)
        for xi in x[[not r for r in reached]]:          # a budget is not a measurement: an empty, hatched bar
            ax.bar(xi, budgets[key], 0.27, fill=False, hatch="//", edgecolor=BAR_COLOURS[k])
            ax.annotate(f"did not\nreach\n({budgets[key]})", (xi, budgets[key]), ha="center", va="bottom", fontsize=6)
    ax.set_yscale("log")
    ax.set_xticks(positions, [TITLES[n] for n in names], fontsize=8)
    ax.set(ylabel="steps (log)", title="steps until the excess loss reaches the tolerance (it starts at 1)")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, frameon=False)

    ax = fig.add_subplot(grid[1, 5:10])
    measured = [neuron[n]["lr_max_measured"] for n in names]
    theory = [neuron[n]["lr_max_theory"] for n in names]
    ax.bar(positions - 0.2, theory, 0.4, label="2 / lambda_max(H),  H = (2/N) X^T X", color="tab:gray")
    ax.bar(positions + 0.2, measured, 0.4, label="measured (bisection on GD divergence)", color="tab:cyan")
    for x, n in zip(positions, names):
        ax.annotate(f"{neuron[n]['lr_max_ratio']:.3f}", (x + 0.2, neuron[n]["lr_max_measured"]),
                    ha="center", va="bottom", fontsize=7)
    ax.set_yscale("log")
    ax.set_xticks(positions, [TITLES[n] for n in names], fontsize=8)
    ax.set(ylabel="learning rate", title="largest stable lr (label: measured / theory)")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=1, frameon=False)

    ax = fig.add_subplot(grid[1, 10:15])
    for name in ORDERS:
        ax.plot(orders["epochs"], orders[name]["train_loss"], "o-", ms=3, label=name, color=ORDER_COLOURS[name])
    ax.set_yscale("log")
    ax.set(xlabel="epoch", ylabel="training loss (cross-entropy, whole set)",
           title="example order: MLP on the digits")
    ax.legend(fontsize=8)
    fig.suptitle("Efficient BackProp 4.2/4.3/5.2: a linear neuron y = w.x (no bias) under five preprocessings, "
                 "and the order of the examples", fontsize=11)
    save_figure(fig, path, dpi=110)


def headline(record):
    """The numbers docs/demos.md reports, as median and range over seeds."""
    numbers = {}
    for name, r in record["linear_neuron"].items():
        for key in ("condition_number", "steps_gd_optimal_lr", "steps_gd_zigzag_lr", "steps_sgd", "lr_max_ratio"):
            numbers[f"{name} {key}"] = r[key]
    orders = record["orders"]
    for name in ORDERS:
        numbers[f"order {name} loss after 1 epoch"] = orders[name]["train_loss"][1]
        numbers[f"order {name} final loss"] = orders[name]["final_train_loss"]
    return numbers


def quick_claims(record):
    """What ``python -m demos.all --check`` asserts of the quick run."""
    neuron, orders = record["linear_neuron"], record["orders"]
    steps = [neuron[n]["steps_gd_optimal_lr"] for n in PREPROCESSINGS]
    return {
        "input normalisation (quick): the measured largest stable lr is within 5% of 2/lambda_max everywhere":
            all(abs(r["lr_max_ratio"] - 1) < 0.05 for r in neuron.values()),
        "input normalisation (quick): GD at lr 1/lambda_max needs raw > centred > standardised > whitened steps":
            None not in steps and steps[0] > steps[1] > steps[2] > steps[3],
        "input normalisation (quick): on whitened inputs GD at lr 1/lambda_max takes one step":
            steps[3] == steps[4] == 1,
        "input normalisation (quick): examples sorted by class end with over 1.5 times the reshuffled loss":
            orders["sorted"]["final_train_loss"] > 1.5 * orders["reshuffled"]["final_train_loss"],
    }


def print_table(results):
    neuron = results["linear_neuron"]
    print(f"{'preprocessing':<14}{'kappa':>9}{'GD 1/lmax':>11}{'GD paths':>10}{'SGD':>8}"
          f"{'lr_max':>12}{'2/lmax':>12}{'ratio':>8}")
    for name, r in neuron.items():
        print(f"{name:<14}{r['condition_number']:>9.1f}{str(r['steps_gd_optimal_lr']):>11}"
              f"{str(r['steps_gd_zigzag_lr']):>10}{str(r['steps_sgd']):>8}"
              f"{r['lr_max_measured']:>12.5g}{r['lr_max_theory']:>12.5g}{r['lr_max_ratio']:>8.4f}")
    orders = results["orders"]
    print("final training loss by example order: "
          + ", ".join(f"{name} {orders[name]['final_train_loss']:.4f}" for name in ORDERS))


def main(argv=None):
    args = parse_args(argv)
    results = save_run(args.out, "input_normalization", vars(args), run(args), plot)
    print_table(results)
    print(f"({results['seconds']} s)")
    return results


if __name__ == "__main__":
    main()
