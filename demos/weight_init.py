"""Why initialisation matters: saturated sigmoids, vanishing and exploding activations, and what BN does to them.

    python demos/weight_init.py            # the full experiment (seconds)
    python demos/weight_init.py --quick    # fewer examples, for smoke tests

(a) One Linear(784, 256) layer (zero bias) followed by a sigmoid, on inputs with
    784 pixels drawn from U[0, 1).  The pre-activation of a unit is
    z = sum_i w_i x_i ~ N(0, sigma_w^2 |x|^2) with |x|^2 ~ 784/3, so with
    N(0, 1) weights z has std ~16 and almost every sigmoid sits below 0.1 or
    above 0.9 (|z| > ln 9 = 2.197), where its derivative is under 0.09; Xavier
    (Glorot & Bengio, 2010; std sqrt(2/(784+256))) and He (He et al., 2015;
    std sqrt(2/784)) give z a std below 1 and almost no saturation.  Histograms
    of the outputs for N(0, 1), Xavier normal, Xavier uniform and He.

(b) 10 layers of Linear(500, 500) (zero bias) + tanh, and the same with ReLU,
    on 1000 inputs x ~ N(0, I_500) (the CS231n experiment), with weights of std
    0.01, std 1, Xavier normal (gain 1) and He normal, each also with
    BatchNorm1d (training mode: batch statistics) inserted before the
    nonlinearity.  Per layer: the mean and std of the activations (after the
    nonlinearity) and their histogram (tanh: the value; ReLU: log10 of the
    positive values, the zeros counted apart, because the scales run over 20
    decades).  What to look for:
    * tanh, std 0.01: each layer multiplies the std by about 0.01 * sqrt(500)
      = 0.224 (tanh is linear near 0), so it collapses as 0.21, 0.048, 0.011...
    * tanh, std 1: the pre-activations have std ~sqrt(500) and tanh saturates at +-1;
    * ReLU, He: E[h^2] stays 1 at every layer (pre-activation variance 2), so the
      std of the post-ReLU activations stays sqrt(1 - 1/pi) = 0.826; Xavier
      (gain 1) halves E[h^2] per layer; std 0.01 and std 1 vanish and explode;
    * with BN every initialisation gives the same statistics at every layer.
All networks are evaluated under ``tg.no_grad()``.
"""
import math
import sys
import time
from pathlib import Path

import numpy as np

if __package__ in (None, ""):        # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import tinygrad_bn as tg                      # noqa: E402
from tinygrad_bn import nn                    # noqa: E402
from demos.common import STYLE, Progress, demo_parser, pyplot, require_at_least, save_figure, save_run  # noqa: E402

PIXELS, HIDDEN = 784, 256                     # part (a)
WIDTH, DEPTH = 500, 10                        # part (b)
SATURATION_LOGIT = math.log(9)                # sigmoid(z) < 0.1 or > 0.9  <=>  |z| > ln 9

SIGMOID_INITS = {
    "N(0,1)": lambda w: nn.init.normal_(w, 0.0, 1.0),
    "xavier_normal": nn.init.xavier_normal_,
    "xavier_uniform": nn.init.xavier_uniform_,
    "he": lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"),
}
DEEP_INITS = {
    "std_0.01": lambda w: nn.init.normal_(w, 0.0, 0.01),
    "std_1": lambda w: nn.init.normal_(w, 0.0, 1.0),
    "xavier": nn.init.xavier_normal_,
    "he": lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"),
}
ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU}
# one colour per initialisation, none of them the red or blue that mean "without BN" and "with BN"
INIT_COLOURS = {"std_0.01": "tab:purple", "std_1": "tab:orange", "xavier": "tab:green", "he": "tab:brown"}
TANH_EDGES = np.linspace(-1, 1, 51)
RELU_LOG10_EDGES = np.linspace(-14, 16, 121)
CS231N_TANH_STD_001 = (0.21, 0.048, 0.011)     # the known collapse, tanh with std 0.01
RELU_HE_STD = math.sqrt(1 - 1 / math.pi)        # std of relu(z), z ~ N(0, 2)


def parse_args(argv=None):
    p = demo_parser(__doc__.split("\n\n")[0], "runs/weight_init")
    p.add_argument("--sigmoid-examples", type=int, default=1000, help="inputs for part (a)")
    p.add_argument("--deep-examples", type=int, default=1000, help="inputs for part (b)")
    args = p.parse_args(argv)
    if args.quick:
        args.sigmoid_examples, args.deep_examples = min(args.sigmoid_examples, 100), min(args.deep_examples, 100)
    require_at_least(p, args, ("sigmoid_examples", "deep_examples"), 2)
    return args


def zero_bias_linear(fan_in, fan_out, init, device):
    """nn.Linear with its weight drawn by ``init`` and a zero bias."""
    dense = nn.Linear(fan_in, fan_out, device=device)
    init(dense.weight)
    nn.init.zeros_(dense.bias)
    return dense


def saturated_fraction(y):
    """Fraction of sigmoid outputs below 0.1 or above 0.9."""
    return float(np.mean((y < 0.1) | (y > 0.9)))


def predicted_saturated_fraction(weight_std, mean_squared_norm):
    """P(|z| > ln 9) for z ~ N(0, weight_std^2 |x|^2): the Gaussian approximation of part (a)."""
    z_std = weight_std * math.sqrt(mean_squared_norm)
    return math.erfc(SATURATION_LOGIT / (z_std * math.sqrt(2)))


def sigmoid_layer(args):
    """Part (a): one sigmoid layer on U[0, 1) pixels, per initialisation."""
    x = tg.rand(args.sigmoid_examples, PIXELS, device=args.device)
    mean_squared_norm = float(np.mean(np.sum(x.numpy().astype(np.float64) ** 2, axis=1)))
    edges = np.linspace(0, 1, 51)
    results = {"inputs": f"U[0,1) pixels, {args.sigmoid_examples} x {PIXELS}",
               "mean_squared_input_norm": mean_squared_norm, "bin_edges": edges.tolist()}
    for name, init in SIGMOID_INITS.items():
        dense = zero_bias_linear(PIXELS, HIDDEN, init, args.device)
        z = dense(x)
        y = z.sigmoid().numpy()
        weight_std = float(dense.weight.detach().numpy().std())
        results[name] = {
            "weight_std": weight_std,
            "pre_activation_std": float(z.numpy().std()),
            "output_mean": float(y.mean()), "output_std": float(y.std()),
            "saturated_fraction": saturated_fraction(y),
            "predicted_saturated_fraction": predicted_saturated_fraction(weight_std, mean_squared_norm),
            "counts": np.histogram(y, edges)[0].tolist(),
        }
    return results


def activation_histogram(activation, h):
    """tanh: counts over [-1, 1]; ReLU: counts of log10 of the positive values, and the share of zeros."""
    if activation == "tanh":
        return {"counts": np.histogram(h, TANH_EDGES)[0].tolist()}
    positive = h[h > 0].astype(np.float64)
    clipped = np.clip(np.log10(positive), RELU_LOG10_EDGES[0], RELU_LOG10_EDGES[-1])
    return {"counts": np.histogram(clipped, RELU_LOG10_EDGES)[0].tolist(), "zero_fraction": float(np.mean(h <= 0))}


def deep_network(activation, init, batch_norm, device):
    """DEPTH blocks of Linear(500, 500) (zero bias) [-> BatchNorm1d] -> activation, as a list of blocks."""
    blocks = []
    for _ in range(DEPTH):
        norm = [nn.BatchNorm1d(WIDTH, device=device)] if batch_norm else []
        blocks.append(nn.Sequential(zero_bias_linear(WIDTH, WIDTH, init, device), *norm, ACTIVATIONS[activation]()))
    return blocks


def deep_statistics(activation, init, batch_norm, x):
    """Per-layer mean, std and histogram of the activations of one network (training mode)."""
    record = {"mean": [], "std": [], "histograms": []}
    h = x
    for block in deep_network(activation, init, batch_norm, x.device):
        h = block(h)
        host = h.numpy()
        record["mean"].append(float(host.mean()))
        record["std"].append(float(host.std()))
        record["histograms"].append(activation_histogram(activation, host))
    return record


def deep_networks(args, progress):
    """Part (b): every activation x initialisation x (without, with BN)."""
    x = tg.randn(args.deep_examples, WIDTH, device=args.device)
    results = {"inputs": f"N(0, I) Gaussian, {args.deep_examples} x {WIDTH}", "layers": list(range(1, DEPTH + 1)),
               "tanh_bin_edges": TANH_EDGES.tolist(), "relu_log10_bin_edges": RELU_LOG10_EDGES.tolist()}
    done = 0
    for activation in ACTIVATIONS:
        results[activation] = {}
        for name, init in DEEP_INITS.items():
            for batch_norm in (False, True):
                key = name + ("+bn" if batch_norm else "")
                results[activation][key] = deep_statistics(activation, init, batch_norm, x)
                done += 1
                progress.update(done, f"{activation} {key}")
    return results


def claims(sigmoid, deep):
    """The expected values next to the measured ones."""
    tanh_std = deep["tanh"]["std_0.01"]["std"]
    relu_he_std = deep["relu"]["he"]["std"]
    return {
        "sigmoid_N01_saturated_fraction": sigmoid["N(0,1)"]["saturated_fraction"],
        "sigmoid_N01_at_least_0.8_saturated": sigmoid["N(0,1)"]["saturated_fraction"] >= 0.8,
        "sigmoid_xavier_saturated_fractions": [sigmoid[k]["saturated_fraction"]
                                               for k in ("xavier_normal", "xavier_uniform")],
        "sigmoid_xavier_under_0.05_saturated": all(sigmoid[k]["saturated_fraction"] < 0.05
                                                   for k in ("xavier_normal", "xavier_uniform")),
        "tanh_std_0.01_first_layers": tanh_std[:3],
        "tanh_std_0.01_reference": list(CS231N_TANH_STD_001),
        "tanh_std_0.01_relative_errors": [abs(m / r - 1) for m, r in zip(tanh_std, CS231N_TANH_STD_001)],
        "tanh_std_0.01_within_15_percent": all(abs(m / r - 1) <= 0.15 for m, r in zip(tanh_std, CS231N_TANH_STD_001)),
        "tanh_std_0.01_layer_ratios": [b / a for a, b in zip(tanh_std[:-1], tanh_std[1:])],
        "tanh_std_0.01_predicted_ratio": 0.01 * math.sqrt(WIDTH),
        "relu_he_std_per_layer": relu_he_std,
        "relu_he_predicted_std": RELU_HE_STD,
        "relu_he_max_relative_deviation": max(abs(s / RELU_HE_STD - 1) for s in relu_he_std),
    }


def run(args):
    tg.manual_seed(args.seed)
    started = time.perf_counter()
    progress = Progress(len(ACTIVATIONS) * len(DEEP_INITS) * 2, not args.no_progress)
    with tg.no_grad():
        sigmoid = sigmoid_layer(args)
        deep = deep_networks(args, progress)
    progress.close()
    return {"sigmoid_layer": sigmoid, "deep": deep, "claims": claims(sigmoid, deep),
            "seconds": round(time.perf_counter() - started, 1)}


# ---------------------------------------------------------------------- numbers that hold on any machine
def headline(record):
    """The numbers docs/demos.md reports, as median and range over seeds."""
    c = record["claims"]
    numbers = {f"(a) saturated fraction, {name}": record["sigmoid_layer"][name]["saturated_fraction"]
               for name in SIGMOID_INITS}
    numbers.update({f"(b) tanh std 0.01, layer {i + 1} std": v for i, v in enumerate(c["tanh_std_0.01_first_layers"])})
    numbers["(b) ReLU He, largest deviation from sqrt(1 - 1/pi)"] = c["relu_he_max_relative_deviation"]
    return numbers


def quick_claims(record):
    """What ``python -m demos.all --check`` asserts of the quick run (100 examples)."""
    c, deep = record["claims"], record["deep"]
    bn_spread = max(max(s) / min(s) - 1 for a in ACTIVATIONS for k, r in deep[a].items() if k.endswith("+bn")
                    for s in [r["std"]])
    return {
        "weight init (quick): at least 80% of the sigmoids saturate with N(0, 1) weights":
            c["sigmoid_N01_at_least_0.8_saturated"],
        "weight init (quick): under 5% saturate with Xavier weights": c["sigmoid_xavier_under_0.05_saturated"],
        "weight init (quick): tanh with std 0.01 gives 0.21, 0.048, 0.011 within 15%":
            c["tanh_std_0.01_within_15_percent"],
        "weight init (quick): with BN each network's activation std varies by under 5% over the layers":
            bn_spread < 0.05,
    }


# ---------------------------------------------------------------------- output
def plot(results, path):
    """Row 1: part (a).  Row 2: std per layer.  Rows 3-6: per-layer histograms of every network of part (b)."""
    plt = pyplot()
    cmap = plt.get_cmap("viridis")
    sigmoid, deep = results["sigmoid_layer"], results["deep"]
    fig, axes = plt.subplots(6, 4, figsize=(17, 23))
    edges = np.asarray(sigmoid["bin_edges"])
    for ax, name in zip(axes[0], SIGMOID_INITS):
        r = sigmoid[name]
        ax.stairs(r["counts"], edges, fill=True, color="tab:gray")
        ax.set(title=f"(a) sigmoid layer, {name}: {100 * r['saturated_fraction']:.1f}% saturated",
               xlabel="sigmoid output", ylabel="count")
        for edge in (0.1, 0.9):
            ax.axvline(edge, color="r", linestyle=":", linewidth=1)
    layers = deep["layers"]
    variants = [(a, bn) for a in ACTIVATIONS for bn in (False, True)]
    for ax, (activation, bn) in zip(axes[1], variants):
        every_std = [s for record in deep[activation].values() for s in record["std"]]
        ax.set_ylim(min(every_std) / 3, max(every_std) * 3)      # one scale for an activation, with and without BN
        look = STYLE["bn" if bn else "plain"]        # the colour is the initialisation's; the line says BN or not
        for name in DEEP_INITS:
            ax.plot(layers, deep[activation][name + ("+bn" if bn else "")]["std"], marker=".", label=name,
                    color=INIT_COLOURS[name],
                    linestyle=look["linestyle"])
        if activation == "tanh" and not bn:
            ax.plot(layers[:3], CS231N_TANH_STD_001, "kx", markersize=9, label="0.21, 0.048, 0.011")
        if activation == "relu":
            ax.axhline(RELU_HE_STD, color="k", linestyle="--", linewidth=0.8, label="sqrt(1 - 1/pi)")
        ax.set(xlabel="layer", ylabel="std", yscale="log")
        ax.set_title(f"(b) {activation}, {look['label']}: std of activations", color=look["color"])
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for row, (activation, bn) in zip(axes[2:], variants):
        edges = np.asarray(deep["tanh_bin_edges"] if activation == "tanh" else deep["relu_log10_bin_edges"])
        for ax, name in zip(row, DEEP_INITS):
            key = name + ("+bn" if bn else "")
            for layer, hist in enumerate(deep[activation][key]["histograms"]):
                ax.stairs(hist["counts"], edges, color=cmap(layer / (DEPTH - 1)), label=f"layer {layer + 1}")
            xlabel = "activation" if activation == "tanh" else "log10(activation), positive values only"
            ax.set(title=f"{activation}{' + BN' if bn else ''}, {key}", xlabel=xlabel, ylabel="count")
            if activation == "relu":
                used = [i for i, c in enumerate(np.sum([h["counts"] for h in deep[activation][key]["histograms"]],
                                                       axis=0)) if c > 0]
                ax.set_xlim(edges[max(used[0] - 2, 0)], edges[min(used[-1] + 3, len(edges) - 1)])
    axes[2][0].legend(fontsize=6, ncol=2)
    fig.suptitle("Weight initialisation: (a) one 784->256 sigmoid layer on U[0,1) pixels; (b) 10 layers of 500 "
                 "units on N(0, I) inputs (colour: layer 1 purple ... layer 10 yellow)", fontsize=12)
    save_figure(fig, path, dpi=90, rect=(0, 0, 1, 0.985))


def main(argv=None):
    args = parse_args(argv)
    record = save_run(args.out, "weight_init", vars(args), run(args), plot)
    c = record["claims"]
    print("(a) saturated fractions: " + ", ".join(f"{name} {record['sigmoid_layer'][name]['saturated_fraction']:.3f}"
                                                  for name in SIGMOID_INITS))
    print("(b) tanh std 0.01, first layers: " + ", ".join(f"{s:.4f}" for s in c["tanh_std_0.01_first_layers"])
          + f" (reference {CS231N_TANH_STD_001})")
    print("    ReLU He std per layer: " + ", ".join(f"{s:.3f}" for s in c["relu_he_std_per_layer"])
          + f" (predicted {RELU_HE_STD:.3f})")
    print(f"({record['seconds']} s)")
    return record


if __name__ == "__main__":
    main()
