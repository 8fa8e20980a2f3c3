"""How fast does each hidden layer learn?  The vanishing gradient, without and with BN.

    python demos/learning_speed.py                          # the course notebook's experiment
    python demos/learning_speed.py --setup nielsen          # Nielsen's, chapter 5
    python demos/learning_speed.py --quick                  # a short smoke run
    python demos/learning_speed.py --dataset mnist-t10k     # MNIST images without the training files

Two published versions of the experiment, each run as its source ran it
(``--setup``), each once without and once with Batch Normalization:

``notebook`` (default), the course's workshop notebook "Measuring Learning in
    Intermediate Layers": six Dense(30, sigmoid) layers with Keras' defaults
    (Glorot-uniform weights, zero biases) and a softmax output, trained with
    cross-entropy on the first 1,000 MNIST training images by Keras SGD
    (lr 0.01, no momentum) with batch size 1 for 200 epochs, reshuffled every
    epoch (Keras' ``fit`` default).  The speed of learning of a hidden layer is
    the Euclidean norm of the change of its weight matrix over one epoch,
    plotted for the five hidden layers after the first (the first has 784
    inputs, not 30, so its norm is not comparable) and smoothed (a moving
    average over ``--smooth`` epochs, this demo's choice).
``nielsen``, Nielsen's "Neural Networks and Deep Learning", chapter 5, and its
    fig/generate_gradient.py: [784, 30, 30, 30, 30, 10] sigmoid units with a
    sigmoid output layer and his cross-entropy, weights N(0, 1/fan_in) and
    biases N(0, 1), the first 1,000 MNIST training images, full-batch gradient
    descent at lr 0.1 with L2 regularisation lambda = 5.0 on the weights, 500
    epochs.  The speed of learning of a hidden layer is the norm of the
    gradient of the (unregularised) cost with respect to its biases, averaged
    over the 1,000 images, measured before each epoch's step.

Both measures are recorded for every network (``weight_change`` and
``bias_gradient``); the plot shows the source's.  In a BN network the hidden
layers have no bias (BN's beta replaces it), so the bias gradient is the
gradient with respect to beta: the same sum over the examples of dL/dz.

Batch Normalization cannot train with batch size 1 (a batch of one has no
variance to normalise by), so the notebook setup trains three networks from
the same weights:

    plain           no BN, batch size 1, lr 0.01 (the notebook's network)
    plain_batch10   no BN, batch size 10, lr 0.1 (control: the same batches as bn)
    bn              Linear(no bias) -> BN -> Sigmoid, batch size 10, lr 0.1

With the loss averaged over the batch, one epoch at batch size B and lr
B * 0.01 adds up (to first order) the same total step as one epoch at batch
size 1 and lr 0.01, so the control shows what the batch size alone changes,
and the difference between the control and bn is BN's.  Nielsen's setup is
full-batch, so there ``plain`` and ``bn`` see the same batch and need no control.
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
from demos.common import (Progress, add_dataset_flags, demo_parser, load_dataset, pyplot,  # noqa: E402
                          require_at_least, restored, save_figure, save_run, style)

SETUPS = {
    "notebook": {"depth": 6, "epochs": 200, "lr": 0.01, "batch_size": 1, "weight_decay": 0.0,
                 "measure": "weight_change", "networks": ("plain", "plain_batch10", "bn")},
    "nielsen": {"depth": 4, "epochs": 500, "lr": 0.1, "batch_size": 1000, "weight_decay": 5.0,
                "measure": "bias_gradient", "networks": ("plain", "bn")},
}
HIDDEN = 30
CONTROL_BATCH = 10


def parse_args(argv=None):
    p = demo_parser(__doc__.split("\n\n")[0], "runs/learning_speed")
    p.add_argument("--setup", choices=sorted(SETUPS), default="notebook")
    add_dataset_flags(p)
    p.add_argument("--train-size", type=int, default=1000, help="training images (the first of the split)")
    p.add_argument("--epochs", type=int, default=None, help="default: the setup's (200 notebook, 500 nielsen)")
    p.add_argument("--smooth", type=int, default=10, help="epochs in the moving average of the plot")
    args = p.parse_args(argv)
    if args.epochs is None:
        args.epochs = SETUPS[args.setup]["epochs"]
    if args.quick:
        args.epochs, args.train_size = min(args.epochs, 3 if args.setup == "notebook" else 30), \
            min(args.train_size, 300)
    require_at_least(p, args, ("train_size", "epochs", "smooth"), 1)
    return args


# ---------------------------------------------------------------------- networks
def keras_dense(fan_in, fan_out, bias=True):
    """Keras' Dense defaults: Glorot-uniform weights, zero biases."""
    dense = nn.Linear(fan_in, fan_out, bias=bias)
    nn.init.xavier_uniform_(dense.weight)
    if bias:
        nn.init.zeros_(dense.bias)
    return dense


def nielsen_dense(fan_in, fan_out, bias=True):
    """network2.py's default_weight_initializer: weights N(0, 1/fan_in), biases N(0, 1)."""
    dense = nn.Linear(fan_in, fan_out, bias=bias)
    nn.init.lecun_normal_(dense.weight)
    if bias:
        nn.init.normal_(dense.bias)
    return dense


def build_networks(setup, in_features, classes):
    """The setup's plain network and its BN twin (and for the notebook the batch-10 control), same weights.

    plain: (Linear -> Sigmoid) x depth -> Linear;  bn: (Linear(no bias) -> BN -> Sigmoid) x depth -> Linear.
    """
    make_dense = keras_dense if setup == "notebook" else nielsen_dense
    sizes = [in_features] + [HIDDEN] * SETUPS[setup]["depth"]
    plain_layers, bn_layers = [], []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        dense, dense_no_bias = make_dense(fan_in, fan_out), nn.Linear(fan_in, fan_out, bias=False)
        dense_no_bias.weight.data[...] = dense.weight.data
        plain_layers += [dense, nn.Sigmoid()]
        bn_layers += [dense_no_bias, nn.BatchNorm1d(fan_out), nn.Sigmoid()]
    head = make_dense(HIDDEN, classes)
    nets = {"plain": nn.Sequential(*plain_layers, head), "bn": nn.Sequential(*bn_layers, copy.deepcopy(head))}
    if setup == "notebook":
        nets["plain_batch10"] = copy.deepcopy(nets["plain"])
    return nets


def hidden_weights(net):
    """The weight matrices feeding the hidden layers, first to last (the output layer excluded)."""
    return [layer.weight for layer in net if isinstance(layer, nn.Linear)][:-1]


def hidden_biases(net):
    """Each hidden layer's bias: the Linear bias, or BN's beta where BN replaces it."""
    norms = [layer.bias for layer in net if isinstance(layer, nn.BatchNorm1d)]
    return norms or [layer.bias for layer in net if isinstance(layer, nn.Linear)][:-1]


# ---------------------------------------------------------------------- losses
def softplus(z):
    """log(1 + e^z), computed as relu(z) + log(1 + e^-|z|) so that it never overflows."""
    return z.relu() + ((-z.abs()).exp() + 1).log()


def nielsen_cross_entropy(logits, labels):
    """network2.py's CrossEntropyCost on sigmoid outputs a = sigmoid(z), one-hot y, averaged over examples:
    sum_k -(y_k ln a_k + (1 - y_k) ln(1 - a_k)) = sum_k softplus(z_k) - z_label."""
    one_hot = tg.tensor(np.eye(logits.shape[1], dtype=np.float32)[labels.cpu().numpy()],
                        device=logits.device)
    return (softplus(logits) - logits * one_hot).sum(dim=1).mean()


LOSSES = {"notebook": F.cross_entropy, "nielsen": nielsen_cross_entropy}


def frobenius(t):
    """||t||_F of a tensor."""
    return float((t * t).sum()) ** 0.5


# ---------------------------------------------------------------------- training
def optimizer_for(net, lr, weight_decay, train_size):
    """Plain SGD; Nielsen's L2 term (lambda / 2n) ||W||^2 decays the weights only, by lambda/n per unit lr."""
    weights = [layer.weight for layer in net if isinstance(layer, nn.Linear)]
    others = [p for p in net.parameters() if all(p is not w for w in weights)]
    return optim.SGD([{"params": weights, "weight_decay": weight_decay / train_size},
                      {"params": others, "weight_decay": 0.0}], lr=lr)


def bias_gradient_norms(net, loss_fn, images, labels):
    """Nielsen's speed of learning: ||dC/db_l|| per hidden layer, C the mean cost over the whole set.
    Measured in training mode and without leaving a trace (running statistics and .grad restored)."""
    biases = hidden_biases(net)
    with restored(net):
        gradients = tg.autograd.grad(loss_fn(net(images), labels), biases)
    return [frobenius(g) for g in gradients]


def train_epoch(net, optimizer, loader, loss_fn):
    """One epoch of SGD; returns ||W_l(after) - W_l(before)||_F per hidden layer."""
    weights = hidden_weights(net)
    before = [w.detach().clone() for w in weights]
    for images, labels in loader:
        loss = loss_fn(net(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return [frobenius(w.detach() - b) for w, b in zip(weights, before)]


@tg.no_grad()
def evaluate(net, loss_fn, images, labels):
    """(loss, accuracy) on the whole training set, in inference mode."""
    net.eval()
    logits = net(images)
    loss = loss_fn(logits, labels).item()
    accuracy = float((logits.detach().argmax(1).cpu().numpy() == labels.cpu().numpy()).mean())
    net.train()
    return loss, accuracy


def schedule(setup, train_size):
    """(batch size, lr) per network: the source's, and for the notebook's BN twin and control batch 10 at 10x lr."""
    source = SETUPS[setup]
    batch = min(source["batch_size"], train_size)
    plan = {"plain": (batch, source["lr"]), "bn": (batch, source["lr"])}
    if setup == "notebook":
        plan["bn"] = plan["plain_batch10"] = (CONTROL_BATCH, source["lr"] * CONTROL_BATCH)
    return plan


def run(args):
    tg.manual_seed(args.seed)
    source = SETUPS[args.setup]
    train, _, dataset = load_dataset(args.dataset, args.data_root, args.seed)
    if len(train) < args.train_size:
        raise ValueError(f"--train-size {args.train_size} exceeds the {len(train)} training images of "
                         f"{dataset['name']}")
    train = data.ArrayDataset(train.images[:args.train_size], train.labels[:args.train_size])
    dataset = {**dataset, "train_size": args.train_size, "used": f"the first {args.train_size} training images"}
    classes = int(train.labels.max()) + 1
    nets = build_networks(args.setup, dataset["input_features"], classes)
    loss_fn = LOSSES[args.setup]
    plan = schedule(args.setup, args.train_size)
    images, labels = tg.tensor(train.images, device=args.device), tg.tensor(train.labels, device=args.device)
    records, optimizers, loaders = {}, {}, {}
    for name in source["networks"]:
        nets[name].to(args.device)
        batch_size, lr = plan[name]
        optimizers[name] = optimizer_for(nets[name], lr, source["weight_decay"], args.train_size)
        # plain_batch10 and bn use loaders with the same seed: they see the same batches
        loaders[name] = data.DataLoader(train, batch_size, shuffle=True, seed=args.seed, device=args.device)
        loss, accuracy = evaluate(nets[name], loss_fn, images, labels)
        records[name] = {"batch_size": batch_size, "lr": lr, "weight_decay": source["weight_decay"],
                         "weight_change": [], "bias_gradient": [], "train_loss": [loss], "train_accuracy": [accuracy]}

    progress = Progress(args.epochs, not args.no_progress)
    started = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        for name in source["networks"]:
            record = records[name]
            record["bias_gradient"].append(bias_gradient_norms(nets[name], loss_fn, images, labels))
            record["weight_change"].append(train_epoch(nets[name], optimizers[name], loaders[name], loss_fn))
            loss, accuracy = evaluate(nets[name], loss_fn, images, labels)
            record["train_loss"].append(loss)
            record["train_accuracy"].append(accuracy)
        progress.update(epoch, "  ".join(f"{n} acc {records[n]['train_accuracy'][-1]:.3f}"
                                         for n in source["networks"]))
    progress.close()
    seconds = time.perf_counter() - started

    first, last = measured_layers(args.setup)
    for record in records.values():
        for measure in ("weight_change", "bias_gradient"):
            record[measure] = np.array(record[measure]).T.tolist()       # [layer][epoch], beside "epochs"
        speeds = np.array(record[source["measure"]])
        record["last_over_first"] = (speeds[last] / speeds[first]).tolist()
        record["median_last_over_first"] = float(np.median(speeds[last] / speeds[first]))
    return {"config": {**vars(args), "classes": classes}, "dataset": dataset,
            "measure": source["measure"], "measured_layers": [first + 1, last + 1],
            "speed": "weight_change[l][e]: ||W_l after epoch e+1 - W_l before it||_F for hidden layer l+1; "
                     "bias_gradient[l][e]: ||dC/db_l|| of the mean cost over the training set before epoch e+1",
            "epochs": list(range(1, args.epochs + 1)), **records, "seconds": round(seconds, 1)}


def measured_layers(setup):
    """0-based (first, last) hidden layer compared: the notebook's plot starts at hidden layer 2."""
    return (1 if setup == "notebook" else 0), SETUPS[setup]["depth"] - 1


# ---------------------------------------------------------------------- numbers that hold on any machine
def headline(record):
    """The numbers docs/demos.md reports, as median and range over seeds."""
    first, last = record["measured_layers"]
    names = SETUPS[record["config"]["setup"]]["networks"]
    numbers = {f"{n} median over epochs of layer {last} / layer {first} speed": record[n]["median_last_over_first"]
               for n in names}
    numbers.update({f"{n} final training accuracy": record[n]["train_accuracy"][-1] for n in names})
    return numbers


def quick_claims(record):
    """What ``python -m demos.all --check`` asserts of the quick run (notebook setup, 300 digits, 3 epochs)."""
    plain, control, bn = (np.array(record[n]["weight_change"]) for n in ("plain", "plain_batch10", "bn"))
    return {
        "learning speed (quick): without BN hidden layer 6 changes over 10 times more than layer 2 in every epoch":
            bool((plain[5] > 10 * plain[1]).all() and (control[5] > 10 * control[1]).all()),
        "learning speed (quick): with BN the layer 6 / layer 2 ratio is over 10 times smaller than the control's":
            record["bn"]["median_last_over_first"] < record["plain_batch10"]["median_last_over_first"] / 10,
    }


# ---------------------------------------------------------------------- output
TITLES = {"plain": "without BN, batch {b}, lr {lr:g}", "plain_batch10": "without BN, batch {b}, lr {lr:g} (control)",
          "bn": "with BN, batch {b}, lr {lr:g}"}
MEASURE_LABELS = {"weight_change": "||weight change over the epoch||", "bias_gradient": "||dC/db|| (bias gradient)"}


def moving_average(values, window):
    """The trailing mean over ``window`` values (fewer at the start)."""
    values = np.asarray(values, dtype=np.float64)
    sums = np.cumsum(np.insert(values, 0, 0.0))
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    return (sums[1:] - sums[np.arange(1, len(values) + 1) - counts]) / counts


def plot(results, path):
    plt = pyplot()
    epochs, config = results["epochs"], results["config"]
    names = SETUPS[config["setup"]]["networks"]
    measure = results["measure"]
    first, last = results["measured_layers"]
    depth = SETUPS[config["setup"]]["depth"]
    fig, axes = plt.subplots(1, len(names) + 1, figsize=(4.6 * (len(names) + 1), 4.4))
    colours = plt.cm.viridis(np.linspace(0, 0.9, depth))
    window = 1 if measure == "bias_gradient" else config["smooth"]
    layer_lines = []
    for ax, name in zip(axes, names):
        record = results[name]
        for layer in range(first - 1, depth):
            line, = ax.plot(epochs, moving_average(record[measure][layer], window), color=colours[layer],
                            label=f"hidden layer {layer + 1}")
            layer_lines.append(line)
        ax.set(yscale="log", xlabel="epoch", title=TITLES[name].format(lr=record["lr"], b=record["batch_size"]))
        ax.grid(alpha=0.3, which="both")
    every = [v for n in names for layer in range(first - 1, depth) for v in results[n][measure][layer] if v > 0]
    for ax in axes[:len(names)]:
        ax.set_ylim(min(every) / 2, max(every) * 2)
    axes[0].set_ylabel(MEASURE_LABELS[measure] + (f", mean of {window} epochs" if window > 1 else ""))
    ax = axes[-1]
    for name in names:
        ax.plot([0] + epochs, results[name]["train_accuracy"],
                **style("plain" if name.startswith("plain") else "bn",
                        **({"linestyle": ":", "label": "without BN (control)"} if name == "plain_batch10" else {})))
    ax.set(xlabel="epoch", ylabel="training accuracy", title="training accuracy", ylim=(0, 1.02))
    ax.grid(alpha=0.3)
    accuracy_lines = ax.get_lines()
    fig.legend(handles=layer_lines[:depth - first + 1] + accuracy_lines, loc="lower center",
               ncol=depth - first + 1 + len(accuracy_lines), fontsize=8, frameon=False)
    source = {"notebook": "the course notebook's setup", "nielsen": "Nielsen's setup (chapter 5)"}[config["setup"]]
    fig.suptitle(f"Speed of learning per hidden layer, {source}: {depth} x {HIDDEN} sigmoid units, "
                 f"{results['dataset']['train_size']} {results['dataset']['name']} images, seed {config['seed']}",
                 fontsize=11)
    save_figure(fig, path, dpi=110, rect=(0, 0.07, 1, 1))


def main(argv=None):
    args = parse_args(argv)
    results = run(args)
    results = save_run(args.out, "learning_speed", results.pop("config"), results, plot)
    for name, value in headline(results).items():
        print(f"{name}: {value:.3g}")
    print(f"({results['seconds']} s)")
    return results


if __name__ == "__main__":
    main()
