"""tree-math.json: node count, root and every node's relations in a tree of n leaves (§4.1).

A relation the vector gives as ``null`` must be one our tree math refuses with
:class:`~protocol.mls.tree_math.TreeMathError`.
"""

from __future__ import annotations

from collections.abc import Callable

from protocol.mls import tree_math
from protocol.mls.tree_math import TreeMathError
from protocol.mls.vectors import VectorCase
from protocol.mls.vectors.checks import expect_equal


def _or_none(relation: Callable[[int], int], node: int) -> int | None:
    try:
        return relation(node)
    except TreeMathError:
        return None


def run_case(case: VectorCase) -> None:
    n_leaves: int = case["n_leaves"]
    n_nodes = tree_math.node_width(n_leaves)
    expect_equal("n_nodes", n_nodes, case["n_nodes"])
    expect_equal("root", tree_math.root(n_leaves), case["root"])
    relations: dict[str, Callable[[int], int]] = {
        "left": tree_math.left,
        "right": tree_math.right,
        "parent": lambda x: tree_math.parent(x, n_leaves),
        "sibling": lambda x: tree_math.sibling(x, n_leaves),
    }
    for name, relation in relations.items():
        want = case[name]
        expect_equal(f"{name} length", len(want), n_nodes)
        for node in range(n_nodes):
            got = _or_none(relation, node)
            expect_equal(f"{name}[{node}]", got, want[node])
