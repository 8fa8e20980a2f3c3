"""Gradients of a deep network at initialisation, with and without BN (Bjorck et al., 2018).

    python demos/gradient_histograms.py            # 110 layers of width 256, a batch of 256 digits
    python demos/gradient_histograms.py --quick    # 30 layers of width 64, a batch of 64

Bjorck, Gomes, Selman & Weinberger (2018), "Understanding Batch Normalization",
show histograms of the gradients of the middle layer of a 110-layer ResNet at
initialisation: without BN they are heavy-tailed and orders of magnitude
larger; with BN they are concentrated around the mean.  This demo asks the same
question of fully connected ReLU networks, in two forms, each once without
and once with BatchNorm1d (training mode) before every hidden ReLU:

* ``feedforward``: ``--depth`` Linear layers (input 64 -> ``--width`` -> ...
  -> ``--width`` -> 10 classes), ReLU after every hidden one;
* ``residual``: the fully connected analogue of Bjorck's ResNet: Linear ->
  ReLU, then (depth - 2) / 2 blocks h <- relu(h + [BN] W2 relu([BN] W1 h)),
  then the 10-way output layer: the same number of weight layers.

Every weight is He-normal (``nn.init.kaiming_normal_``), every bias zero; the
network without BN and its BN twin start from the same weights.  One batch of
``--batch`` scikit-learn digits (8x8, standardised per pixel with the training
set's mean and std; not CIFAR-10, which Bjorck used), cross-entropy loss, one
backward pass.  The gradient of the middle layer's weight matrix is summarised
by its std, its percentiles of |g| (the ratio of the 99th to the median and to
the mean magnitude: scale-free measures of spread), the share of exact zeros
(dead ReLU units) and its kurtosis E[(g - mean)^4] / std^4 (3 for a Gaussian;
computed with NumPy), also over the nonzero entries alone.  What to look for: without BN the gradient is
heavy-tailed (kurtosis far above 3) in both networks; in the residual network
it is also orders of magnitude larger, as in the paper.  In the plain
feedforward network it is the other way round for the size: with BN the
gradients grow geometrically towards the input at initialisation (Yang et al.,
2019, "A mean field theory of batch normalization"), so the BN network's
middle-layer gradients are the larger ones; the per-layer gradient norms
(right-hand panels) show both effects.
"""
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):        # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tinygrad_bn as tg                      # noqa: E402
import tinygrad_bn.functional as F           # noqa: E402
from tinygrad_bn import data, nn             # noqa: E402
from demos.common import STYLE, Progress, demo_parser, pyplot, require_at_least, save_figure, save_run  # noqa: E402

ARCHITECTURES = ("feedforward", "residual")
NETWORKS = ("plain", "bn")
LABELS = {name: STYLE[name]["label"] for name in NETWORKS}
BINS = 101
STANDARDISED_RANGE = 15          # the overlay of standardised gradients spans +-15 std


def parse_args(argv=None):
    p = demo_parser(__doc__.split("\n\n")[0], "runs/gradient_histograms")
    p.add_argument("--depth", type=int, default=110, help="number of Linear layers, the output layer included")
    p.add_argument("--width", type=int, default=256, help="units per hidden layer")
    p.add_argument("--batch", type=int, default=256, help="digits in the batch")
    args = p.parse_args(argv)
    if args.quick:
        args.depth, args.width, args.batch = min(args.depth, 30), min(args.width, 64), min(args.batch, 64)
    if args.depth < 4:
        p.error(f"--depth must be at least 4 (input, two hidden, output layers), got {args.depth}")
    require_at_least(p, args, ("width", "batch"), 2)
    return args


# ---------------------------------------------------------------------- networks
class ResidualBlock(nn.Module):
    """h -> relu(h + [BN] W2 relu([BN] W1 h)), the fully connected form of a ResNet basic block."""

    def __init__(self, width, batch_norm, device):
        super().__init__()
        self.dense1 = nn.Linear(width, width, bias=not batch_norm, device=device)
        self.dense2 = nn.Linear(width, width, bias=not batch_norm, device=device)
        self.norm1 = nn.BatchNorm1d(width, device=device) if batch_norm else nn.Identity()
        self.norm2 = nn.BatchNorm1d(width, device=device) if batch_norm else nn.Identity()

    def forward(self, h):
        return (h + self.norm2(self.dense2(self.norm1(self.dense1(h)).relu()))).relu()


def hidden_layer(fan_in, fan_out, batch_norm, device):
    """Linear -> ReLU, or Linear (no bias: BN's beta replaces it) -> BN -> ReLU."""
    if batch_norm:
        return [nn.Linear(fan_in, fan_out, bias=False, device=device), nn.BatchNorm1d(fan_out, device=device),
                nn.ReLU()]
    return [nn.Linear(fan_in, fan_out, device=device), nn.ReLU()]


def build_network(architecture, inputs, width, classes, depth, batch_norm, device):
    """The network of ``architecture`` with ``depth`` Linear layers, [BN] before every hidden ReLU."""
    layers = hidden_layer(inputs, width, batch_norm, device)
    if architecture == "feedforward":
        for _ in range(depth - 2):
            layers += hidden_layer(width, width, batch_norm, device)
    else:
        layers += [ResidualBlock(width, batch_norm, device) for _ in range((depth - 2) // 2)]
    layers.append(nn.Linear(width, classes, device=device))
    return nn.Sequential(*layers)


def dense_layers(net):
    """The network's Linear layers, input to output."""
    return [module for module in net.modules() if isinstance(module, nn.Linear)]


def initialise_twins(plain, bn):
    """He-normal weights and zero biases, the same weights in both networks."""
    for a, b in zip(dense_layers(plain), dense_layers(bn)):
        nn.init.kaiming_normal_(a.weight, nonlinearity="relu")
        b.weight.data[...] = a.weight.data
        for dense in (a, b):
            if dense.bias is not None:
                nn.init.zeros_(dense.bias)


# ---------------------------------------------------------------------- statistics
def finite_or_none(value):
    """JSON has no NaN or infinity: those become None."""
    return float(value) if np.isfinite(value) else None


def kurtosis(values):
    """Pearson's kurtosis E[(x - mean)^4] / std^4 (3 for a Gaussian), in float64, scaled first against overflow."""
    x = np.asarray(values, dtype=np.float64)
    centred = x - x.mean()
    std = centred.std()
    return float(np.mean((centred / std) ** 4)) if std > 0 else float("nan")


def gradient_statistics(gradient):
    """Spread, tails and histograms of one gradient array (only its finite entries)."""
    g = np.asarray(gradient, dtype=np.float64).ravel()
    finite = g[np.isfinite(g)]
    record = {"size": int(g.size), "nonfinite": int(g.size - finite.size)}
    if finite.size == 0:
        return record
    magnitude = np.abs(finite)
    median, p99, mean_abs, std = (np.median(magnitude), np.percentile(magnitude, 99), magnitude.mean(), finite.std())
    record.update({
        "mean": float(finite.mean()), "std": float(std), "mean_abs": float(mean_abs),
        "median_abs": float(median), "p99_abs": float(p99), "max_abs": float(magnitude.max()),
        "p99_over_median_abs": finite_or_none(p99 / median) if median > 0 else None,
        "p99_over_mean_abs": finite_or_none(p99 / mean_abs) if mean_abs > 0 else None,
        "zero_fraction": float(np.mean(finite == 0)),
        "kurtosis": finite_or_none(kurtosis(finite)),
        "kurtosis_nonzero": finite_or_none(kurtosis(finite[finite != 0])) if np.count_nonzero(finite) > 1 else None,
    })
    limit = magnitude.max() if magnitude.max() > 0 else 1.0
    counts, edges = np.histogram(finite, BINS, (-limit, limit))
    record["histogram"] = {"counts": counts.tolist(), "edges": edges.tolist()}
    if std > 0:
        standardised = np.clip((finite - finite.mean()) / std, -STANDARDISED_RANGE, STANDARDISED_RANGE)
        counts, edges = np.histogram(standardised, BINS, (-STANDARDISED_RANGE, STANDARDISED_RANGE))
        record["standardised_histogram"] = {"counts": counts.tolist(), "edges": edges.tolist()}
    return record


def digits_batch(size, seed, device):
    """``size`` standardised training digits (a seeded choice) and their labels."""
    train = data.Digits(train=True)
    scaler = data.Standardize().fit(train.images)
    rows = np.random.default_rng(seed).permutation(len(train.labels))[:size]
    images = scaler.transform(train.images[rows]).astype(np.float32)
    return tg.tensor(images, device=device), tg.tensor(train.labels[rows], device=device), train


def run(args):
    tg.manual_seed(args.seed)
    images, labels, train = digits_batch(args.batch, args.seed, args.device)
    classes = int(train.labels.max()) + 1
    results = {"dataset": {"name": "digits", "description": "scikit-learn's handwritten digits (8x8), standardised "
                                                            "per pixel with the training set's statistics",
                           "batch": args.batch, "input_features": int(images.shape[1])}}
    progress = Progress(len(ARCHITECTURES) * len(NETWORKS), not args.no_progress)
    started = time.perf_counter()
    for a, architecture in enumerate(ARCHITECTURES):
        nets = {name: build_network(architecture, images.shape[1], args.width, classes, args.depth, name == "bn",
                                    args.device) for name in NETWORKS}
        initialise_twins(nets["plain"], nets["bn"])
        layers = len(dense_layers(nets["plain"]))
        middle = (layers - 1) // 2                        # 0-based: layer 55 of 110
        results[architecture] = {"weight_layers": layers, "middle_layer": middle + 1}
        for n, name in enumerate(NETWORKS):
            loss = F.cross_entropy(nets[name](images), labels)
            loss.backward()
            grads = [tg.backend.to_numpy(dense.weight.grad.data) for dense in dense_layers(nets[name])]
            results[architecture][name] = {
                "loss": finite_or_none(loss.item()),
                "middle_layer_gradient": gradient_statistics(grads[middle]),
                "gradient_norm_per_layer": [finite_or_none(np.linalg.norm(g.astype(np.float64))) for g in grads],
            }
            progress.update(a * len(NETWORKS) + n + 1, f"{architecture} {name}")
    progress.close()
    results["claims"] = claims(results)
    results["seconds"] = round(time.perf_counter() - started, 1)
    return results


def claims(results):
    """Without BN: heavier tails (kurtosis) and a wider spread (std) than with BN, per architecture."""
    summary = {}
    for architecture in ARCHITECTURES:
        plain = results[architecture]["plain"]["middle_layer_gradient"]
        bn = results[architecture]["bn"]["middle_layer_gradient"]
        if "std" not in plain or "std" not in bn:
            continue
        summary[architecture] = {
            "kurtosis_plain": plain["kurtosis"], "kurtosis_bn": bn["kurtosis"],
            "std_ratio_plain_over_bn": finite_or_none(plain["std"] / bn["std"]) if bn["std"] > 0 else None,
            "p99_over_mean_abs_plain": plain["p99_over_mean_abs"], "p99_over_mean_abs_bn": bn["p99_over_mean_abs"],
            "plain_heavier_tailed": (plain["kurtosis"] or 0) > (bn["kurtosis"] or float("inf")),
            "plain_larger_std": plain["std"] > bn["std"],
        }
    return summary


# ---------------------------------------------------------------------- numbers that hold on any machine
def headline(record):
    """The numbers docs/demos.md reports, as median and range over seeds."""
    numbers = {}
    for architecture in ARCHITECTURES:
        for name in NETWORKS:
            stats = record[architecture][name]["middle_layer_gradient"]
            for key in ("std", "kurtosis", "kurtosis_nonzero", "p99_over_mean_abs", "zero_fraction"):
                numbers[f"{architecture} {name} {key}"] = stats.get(key)
    return numbers


def quick_claims(record):
    """What ``python -m demos.all --check`` asserts of the quick run (30 layers of width 64, 64 digits)."""
    claims = {}
    for architecture in ARCHITECTURES:
        plain = record[architecture]["plain"]["middle_layer_gradient"]
        bn = record[architecture]["bn"]["middle_layer_gradient"]
        claims[f"gradient histograms (quick), {architecture}: kurtosis over 10 without BN, under 6 with BN"] = \
            (plain["kurtosis"] or 0) > 10 and (bn["kurtosis"] or float("inf")) < 6
        claims[f"gradient histograms (quick), {architecture}: p99 / mean |g| over twice as large without BN"] = \
            plain["p99_over_mean_abs"] > 2 * bn["p99_over_mean_abs"]
    residual = record["residual"]
    claims["gradient histograms (quick), residual: gradient std over 100 times larger without BN"] = \
        residual["plain"]["middle_layer_gradient"]["std"] > 100 * residual["bn"]["middle_layer_gradient"]["std"]
    return claims


def kurtosis_text(stats):
    """'k (all entries), k' (nonzero only)': without BN many entries are exactly 0, which alone raises kurtosis."""
    nonzero = stats.get("kurtosis_nonzero")
    return f"{stats['kurtosis']:.3g} (all entries), " + (f"{nonzero:.3g} (nonzero only)"
                                                        if nonzero is not None else "no nonzero entries")


# ---------------------------------------------------------------------- output
def plot(results, path):
    """Per architecture: the two histograms side by side, both standardised, and gradient norms per layer."""
    plt = pyplot()
    fig, axes = plt.subplots(len(ARCHITECTURES), 4, figsize=(19, 5.4 * len(ARCHITECTURES)), squeeze=False)
    for row, architecture in zip(axes, ARCHITECTURES):
        record = results[architecture]
        layer = record["middle_layer"]
        for ax, name in ((row[0], "plain"), (row[1], "bn")):
            stats = record[name]["middle_layer_gradient"]
            if "histogram" in stats:
                ax.stairs(stats["histogram"]["counts"], stats["histogram"]["edges"], fill=True,
                          color=STYLE[name]["color"])
                ax.set_title(f"{architecture}, {LABELS[name]}: layer {layer} weight gradient\n"
                             f"std {stats['std']:.3g}, exact zeros {100 * stats['zero_fraction']:.0f}%\n"
                             f"kurtosis {kurtosis_text(stats)}", fontsize=9)
            ax.set(yscale="log", xlabel="gradient entry", ylabel="count (log)")
        for name in NETWORKS:
            stats = record[name]["middle_layer_gradient"]
            if "standardised_histogram" in stats:
                row[2].stairs(stats["standardised_histogram"]["counts"], stats["standardised_histogram"]["edges"],
                              color=STYLE[name]["color"], linestyle=STYLE[name]["linestyle"],
                              label=f"{LABELS[name]}: kurtosis {kurtosis_text(stats)}")
        size = record["plain"]["middle_layer_gradient"]["size"]
        edges = np.linspace(-STANDARDISED_RANGE, STANDARDISED_RANGE, BINS + 1)
        centres, width = (edges[:-1] + edges[1:]) / 2, edges[1] - edges[0]
        gaussian = size * width * np.exp(-centres ** 2 / 2) / np.sqrt(2 * np.pi)
        row[2].plot(centres, np.where(gaussian >= 0.5, gaussian, np.nan), "k--", linewidth=1,
                    label="Gaussian (kurtosis 3)")
        row[2].set(title=f"{architecture}: both, in units of their own std\n(exact zeros included)", yscale="log",
                   xlabel="(g - mean) / std", ylabel="count (log)")
        row[2].legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.17), frameon=False)
        for name in NETWORKS:
            norms = [np.nan if v is None else v for v in record[name]["gradient_norm_per_layer"]]
            row[3].plot(range(1, len(norms) + 1), norms, **STYLE[name])
        row[3].axvline(layer, color="grey", linestyle=":", label=f"layer {layer}")
        row[3].set(title=f"{architecture}: gradient norm of\neach layer's weights", yscale="log",
                   xlabel="layer (input -> output)", ylabel="||dL/dW||")
        row[3].grid(alpha=0.3)
        row[3].legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.17), ncol=3, frameon=False)
    config = results["config"]
    fig.suptitle(f"Gradients at initialisation, {config['depth']} layers of width {config['width']}, "
                 f"batch of {config['batch']} digits, He init (Bjorck et al. 2018's question, asked of "
                 "fully connected networks)", fontsize=11)
    save_figure(fig, path, dpi=110, rect=(0, 0, 1, 0.96))


def main(argv=None):
    args = parse_args(argv)
    record = save_run(args.out, "gradient_histograms", vars(args), run(args), plot)
    for architecture in ARCHITECTURES:
        for name in NETWORKS:
            s = record[architecture][name]["middle_layer_gradient"]
            print(f"{architecture:>11} {LABELS[name]:>10}: layer {record[architecture]['middle_layer']} gradient "
                  f"std {s.get('std', float('nan')):.3g}, kurtosis {s.get('kurtosis') or float('nan'):.3g}, "
                  f"p99/mean|g| {s.get('p99_over_mean_abs') or float('nan'):.3g}, "
                  f"zeros {100 * s.get('zero_fraction', float('nan')):.1f}%")
    print(f"({record['seconds']} s)")
    return record


if __name__ == "__main__":
    main()
