"""Draw the autograd graph: ``to_dot(tensor)`` returns Graphviz DOT text.

The picture has one box per leaf (a tensor the user made, or a constant) and
one ellipse per recorded operation (a ``Function`` node), labelled with the
op's name and the shape of the tensor it produced.  An arrow goes from each
input to the op that consumed it, so data flows left to right and the last
ellipse on the right made ``tensor``.  A tensor used twice is drawn once with
two arrows leaving it.

No Graphviz is needed to produce the text; to see it, paste it into any DOT
viewer or run ``dot -Tpng graph.dot -o graph.png`` where Graphviz is installed.
"""
from .autograd import freed_graph_error
from .tensor import Tensor


def recorded_ops(root):
    """Every node reachable from ``root``, oldest first (so each op comes after
    the ops that made its inputs: creation order is a topological order)."""
    seen, stack = {root}, [root]
    while stack:
        node = stack.pop()
        if node.inputs is None:
            raise freed_graph_error(node)
        for a in node.inputs:
            if isinstance(a, Tensor) and a.grad_fn is not None and a.grad_fn not in seen:
                seen.add(a.grad_fn)
                stack.append(a.grad_fn)
    return sorted(seen, key=lambda node: node.sequence_nr)


def _shape(shape):
    return str(tuple(int(n) for n in shape))       # as Python prints .shape: (), (3,), (2, 3)


def to_dot(tensor):
    """The graph that computed ``tensor`` as DOT text (deterministic ids).

    Ops are numbered ``op0, op1, ...`` in the order they were recorded, so
    every op comes after the ops that made its inputs; leaves are
    numbered ``leaf0, leaf1, ...`` in the order they are first consumed.
    Raises RuntimeError when backward has already freed the graph.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dot takes a Tensor, got {type(tensor).__name__}")
    lines = ["digraph tinygrad_bn {", "  rankdir=LR;"]
    if tensor.grad_fn is None:
        lines.append(_leaf_line("leaf0", tensor))
        lines.append("}")
        return "\n".join(lines) + "\n"

    ops = recorded_ops(tensor.grad_fn)
    op_ids = {node: f"op{i}" for i, node in enumerate(ops)}
    out_shape = {tensor.grad_fn: tensor.shape}
    leaf_ids, leaf_lines, edges = {}, [], []
    for node in ops:
        for a in node.inputs:
            if not isinstance(a, Tensor):               # an axis, a shape, an index...
                continue
            if a.grad_fn is not None:
                out_shape[a.grad_fn] = a.shape
                edges.append(f"  {op_ids[a.grad_fn]} -> {op_ids[node]};")
                continue
            if id(a) not in leaf_ids:
                leaf_ids[id(a)] = f"leaf{len(leaf_ids)}"
                leaf_lines.append(_leaf_line(leaf_ids[id(a)], a))
            edges.append(f"  {leaf_ids[id(a)]} -> {op_ids[node]};")
    lines += leaf_lines
    lines += [f'  {op_ids[node]} [label="{type(node).__name__}\\n{_shape(out_shape[node])}", shape=ellipse];'
              for node in ops]
    lines += edges
    lines.append("}")
    return "\n".join(lines) + "\n"


def _leaf_line(name, t):
    style = ", style=filled, fillcolor=lightblue" if t.requires_grad else ""
    return (f'  {name} [label="leaf {_shape(t.shape)}\\nrequires_grad={t.requires_grad}", '
            f"shape=box{style}];")
