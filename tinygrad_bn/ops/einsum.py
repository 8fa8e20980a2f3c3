"""Einstein summation, ``tg.einsum("ij,jk->ik", a, b)``, as ``torch.einsum``.

Each operand's axes get letters; letters shared by operands are multiplied
along, letters missing from the output are summed over.  The gradient with
respect to operand k is again an einsum: of dL/dy (with the output's letters)
and the other operands, to operand k's letters.  A letter only operand k has
(summed in the forward pass by k alone) is missing from that einsum's inputs:
dL/d operand_k is the same along it, so the einsum is taken without it and
broadcast back.  Where an operand's axis of size 1 was broadcast against the
others, the engine sums the gradient back over it.
"""
from ..autograd import Function
from ..tensor import Tensor

_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def parse(equation, shapes):
    """(subscripts of each operand, subscripts of the output) for ``equation`` and the
    operands' shapes, with "..." written out as letters of its own (right-aligned, as
    broadcasting aligns them) and the implicit output (no "->": the "..." axes, then
    the letters used once, in alphabetical order) made explicit."""
    equation = equation.replace(" ", "")
    if equation.count("->") > 1:
        raise ValueError(f"einsum(): {equation!r} has more than one '->'")
    left, arrow, output = equation.partition("->")
    terms = left.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum(): the equation {equation!r} has {len(terms)} operand(s) but "
                         f"{len(shapes)} were given")
    for term in terms + [output]:
        stray = set(term.replace("...", "")) - set(_LETTERS)
        if stray or term.replace("...", "").count(".") or term.count("...") > 1:
            raise ValueError(f"einsum(): invalid subscripts {term!r} in {equation!r}: letters a-z and A-Z, "
                             f"and at most one '...' per operand")
    unused = [c for c in _LETTERS if c not in equation]
    spans = []
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        letters = len(term.replace("...", ""))
        span = len(shape) - letters if "..." in term else 0
        if span < 0 or ("..." not in term and letters != len(shape)):
            raise ValueError(f"einsum(): operand {i} has {len(shape)} dimensions but the subscripts {term!r} "
                             f"name {letters}")
        spans.append(span)
    ellipsis = "".join(unused[:max(spans, default=0)])
    inputs = tuple(term.replace("...", ellipsis[len(ellipsis) - span:]) for term, span in zip(terms, spans))
    for i, term in enumerate(inputs):
        if len(set(term)) != len(term):
            raise NotImplementedError(f"einsum(): operand {i} repeats a letter ({terms[i]!r}: a diagonal); "
                                      f"take it with torch.diagonal-style indexing first")
    if arrow:
        output = output.replace("...", ellipsis)
        for c in output:
            if output.count(c) > 1 or not any(c in term for term in inputs):
                raise ValueError(f"einsum(): output subscript {c!r} appears more than once or in no operand "
                                 f"in {equation!r}")
    else:
        once = sorted(c for c in set("".join(inputs)) - set(ellipsis) if "".join(inputs).count(c) == 1)
        output = ellipsis + "".join(once)
    return inputs, output


class Einsum(Function):
    """y = einsum(inputs -> output, *operands), subscripts explicit (``parse``); the
    derivation is in the module docstring."""

    @staticmethod
    def forward(ctx, subscripts, *operands):
        inputs, output = subscripts
        return operands[0].xp.einsum(",".join(inputs) + "->" + output, *[t._data for t in operands])

    @staticmethod
    def backward(ctx, grad):
        (inputs, output), operands = ctx.inputs[0], ctx.inputs[1:]
        grads = []
        for k, (term, operand) in enumerate(zip(inputs, operands)):
            if not ctx.needs_input_grad[k + 1]:
                grads.append(None)
                continue
            other_terms = inputs[:k] + inputs[k + 1:]
            present = set(output).union(*other_terms)
            kept = "".join(c for c in term if c in present)
            g = Einsum.apply(((output,) + other_terms, kept), grad, *(operands[:k] + operands[k + 1:]))
            if kept != term:                       # letters only operand k has: broadcast back along them
                sizes = dict(zip(kept, g.shape))
                g = g.reshape(tuple(sizes.get(c, 1) for c in term))
                g = g.broadcast_to(tuple(sizes.get(c, n) for c, n in zip(term, operand.shape)))
            grads.append(g)
        return (None,) + tuple(grads)


def einsum(equation, *operands):
    """``torch.einsum``: operands as arguments or as one list."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for i, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum(): operand {i} must be a Tensor, not {type(t).__name__}")
    if not operands:
        raise ValueError("einsum(): at least one operand is needed")
    return Einsum.apply(parse(equation, [t.shape for t in operands]), *operands)
