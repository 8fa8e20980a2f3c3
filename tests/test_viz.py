"""tg.viz.to_dot: the DOT text is parsed back and compared with the graph drawn by hand."""
import re

import pytest

import tinygrad_bn as tg

NODE = re.compile(r'^\s*(\w+) \[label="([^"]*)"(.*)\];$')
EDGE = re.compile(r"^\s*(\w+) -> (\w+);$")


def parse(dot):
    """(nodes, edges): nodes maps id -> (first label line, second label line); edges is a list of pairs."""
    lines = dot.strip().splitlines()
    assert lines[0] == "digraph tinygrad_bn {" and lines[-1] == "}"
    nodes, edges = {}, []
    for line in lines[1:-1]:
        if m := NODE.match(line):
            assert m.group(1) not in nodes, f"node {m.group(1)} declared twice"
            nodes[m.group(1)] = tuple(m.group(2).split("\\n"))
        elif m := EDGE.match(line):
            edges.append((m.group(1), m.group(2)))
        else:
            assert line.strip() == "rankdir=LR;", f"unexpected DOT line {line!r}"
    for a, b in edges:
        assert a in nodes and b in nodes, f"edge {a} -> {b} between undeclared nodes"
    return nodes, edges


def by_label(nodes, first_line):
    found = [name for name, label in nodes.items() if label[0] == first_line]
    assert len(found) == 1, f"expected one node labelled {first_line!r}, found {found}"
    return found[0]


def test_affine_relu_sum_graph(device):
    x = tg.randn(2, 3, requires_grad=True, device=device)
    w = tg.randn(3, 4, requires_grad=True, device=device)
    b = tg.randn(4, requires_grad=True, device=device)
    nodes, edges = parse(tg.viz.to_dot((x @ w + b).relu().sum()))

    # 4 ops (MatMul, Add, ReLU, Sum) + 3 leaves
    assert len(nodes) == 7
    assert nodes[by_label(nodes, "MatMul")][1] == "(2, 4)"
    assert nodes[by_label(nodes, "Add")][1] == "(2, 4)"
    assert nodes[by_label(nodes, "ReLU")][1] == "(2, 4)"
    assert nodes[by_label(nodes, "Sum")][1] == "()"
    leaves = {label: name for name, label in nodes.items() if label[0].startswith("leaf")}
    assert set(leaves) == {("leaf (2, 3)", "requires_grad=True"), ("leaf (3, 4)", "requires_grad=True"),
                           ("leaf (4,)", "requires_grad=True")}
    matmul, add, relu, total = (by_label(nodes, op) for op in ("MatMul", "Add", "ReLU", "Sum"))
    assert sorted(edges) == sorted([
        (leaves[("leaf (2, 3)", "requires_grad=True")], matmul),
        (leaves[("leaf (3, 4)", "requires_grad=True")], matmul),
        (matmul, add), (leaves[("leaf (4,)", "requires_grad=True")], add),
        (add, relu), (relu, total)])


def test_reused_tensors_appear_once_with_one_edge_per_use(device):
    a = tg.tensor([1.0, 2.0], requires_grad=True, device=device)
    b = a + a
    c = b * b
    nodes, edges = parse(tg.viz.to_dot(c))
    assert len(nodes) == 3                          # a, Add, Mul
    leaf, add, mul = by_label(nodes, "leaf (2,)"), by_label(nodes, "Add"), by_label(nodes, "Mul")
    assert sorted(edges) == sorted([(leaf, add), (leaf, add), (add, mul), (add, mul)])


def test_constants_are_leaves_that_do_not_require_grad(device):
    x = tg.tensor([[1.0, 2.0, 3.0]], requires_grad=True, device=device)
    nodes, edges = parse(tg.viz.to_dot(x * 2.0))
    assert sorted(nodes.values()) == [("Mul", "(1, 3)"), ("leaf ()", "requires_grad=False"),
                                      ("leaf (1, 3)", "requires_grad=True")]
    assert len(edges) == 2


def test_ids_are_deterministic_and_ops_follow_their_inputs(device):
    def build():
        tg.manual_seed(1)
        x = tg.randn(3, requires_grad=True, device=device)
        return ((x.exp() + x).log() * x).mean()

    first, second = tg.viz.to_dot(build()), tg.viz.to_dot(build())
    assert first == second
    nodes, edges = parse(first)
    assert sorted(n for n in nodes if n.startswith("op")) == ["op0", "op1", "op2", "op3", "op4"]
    for a, b in edges:
        if a.startswith("op"):
            assert int(a[2:]) < int(b[2:]), f"{a} feeds {b} but is numbered after it"


def test_a_leaf_alone_is_one_node():
    nodes, edges = parse(tg.viz.to_dot(tg.zeros(2, 5)))
    assert nodes == {"leaf0": ("leaf (2, 5)", "requires_grad=False")} and edges == []


def test_drawing_leaves_the_graph_usable_and_a_freed_graph_is_refused(device):
    x = tg.tensor([1.0, -2.0, 3.0], requires_grad=True, device=device)
    y = (x * x).sum()
    tg.viz.to_dot(y)
    y.backward()
    assert x.grad.numpy().tolist() == [2.0, -4.0, 6.0]          # d/dx sum(x^2) = 2x
    with pytest.raises(RuntimeError, match="second time"):
        tg.viz.to_dot(y)


def test_deep_chain_needs_no_recursion():
    x = tg.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(5000):
        y = y * 1.0
    nodes, edges = parse(tg.viz.to_dot(y))
    assert len(nodes) == 5000 + 1 + 5000                       # ops, x, one constant per op
    assert len(edges) == 2 * 5000


def test_rejects_non_tensors():
    with pytest.raises(TypeError, match="Tensor"):
        tg.viz.to_dot([1.0, 2.0])
