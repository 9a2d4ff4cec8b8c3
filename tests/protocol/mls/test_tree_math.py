"""Tree math (RFC 9420 §4.1, App. C): relations, paths, and refusal of undefined relations."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.errors import ValidationError
from protocol.mls import tree_math as tm
from protocol.mls.tree_math import TreeMathError

# Figure 11 of RFC 9420: eight leaves A..H, parents T=1, V=5, X=9, Z=13, U=3, Y=11, W=7.
A, B, E, F, G = 0, 2, 8, 10, 12
T, U, V, W, X, Y, Z = 1, 3, 5, 7, 9, 11, 13


@st.composite
def trees(draw: st.DrawFn) -> tuple[int, int]:
    """A perfect tree size and one node in it."""
    n_leaves = 1 << draw(st.integers(min_value=0, max_value=20))
    node = draw(st.integers(min_value=0, max_value=tm.node_width(n_leaves) - 1))
    return n_leaves, node


def test_figure_11_direct_paths_and_copaths() -> None:
    assert tm.direct_path(A, 8) == [T, U, W]
    assert tm.copath(A, 8) == [B, V, Y]
    assert tm.direct_path(E, 8) == [X, Y, W]
    assert tm.copath(F, 8) == [E, Z, U]
    assert tm.direct_path(G, 8) == [Z, Y, W]
    assert tm.copath(G, 8) == [14, X, U]


def test_single_leaf_tree() -> None:
    assert tm.node_width(1) == 1
    assert tm.root(1) == 0
    assert tm.direct_path(0, 1) == []
    assert tm.copath(0, 1) == []
    with pytest.raises(TreeMathError):
        tm.parent(0, 1)


def test_empty_tree_has_no_nodes() -> None:
    assert tm.node_width(0) == 0
    with pytest.raises(TreeMathError):
        tm.root(0)
    with pytest.raises(TreeMathError):
        tm.direct_path(0, 0)


def test_levels() -> None:
    assert [tm.level(x) for x in range(15)] == [0, 1, 0, 2, 0, 1, 0, 3, 0, 1, 0, 2, 0, 1, 0]


@pytest.mark.parametrize("leaf", [0, 2, 14])
def test_leaves_have_no_children(leaf: int) -> None:
    with pytest.raises(TreeMathError):
        tm.left(leaf)
    with pytest.raises(TreeMathError):
        tm.right(leaf)


def test_root_has_no_parent_or_sibling() -> None:
    with pytest.raises(TreeMathError):
        tm.parent(7, 8)
    with pytest.raises(TreeMathError):
        tm.sibling(7, 8)


@pytest.mark.parametrize("n_leaves", [3, 5, 6, 7, -1, (1 << 31) + 1, 1 << 32])
def test_non_perfect_tree_sizes_are_refused(n_leaves: int) -> None:
    with pytest.raises(TreeMathError):
        tm.root(n_leaves)


@pytest.mark.parametrize("node", [-1, 15, 100])
def test_nodes_outside_the_tree_are_refused(node: int) -> None:
    with pytest.raises(TreeMathError):
        tm.parent(node, 8)
    with pytest.raises(TreeMathError):
        tm.direct_path(node, 8)
    with pytest.raises(TreeMathError):
        tm.copath(node, 8)


def test_leaf_and_node_indices() -> None:
    assert tm.leaf_to_node(3) == 6
    assert tm.node_to_leaf(6) == 3
    with pytest.raises(TreeMathError):
        tm.node_to_leaf(5)
    with pytest.raises(TreeMathError):
        tm.leaf_to_node(-1)
    with pytest.raises(TreeMathError):
        tm.leaf_to_node(1 << 31)


def test_errors_are_validation_errors_with_a_code() -> None:
    with pytest.raises(ValidationError) as info:
        tm.left(0)
    assert info.value.code == "tree_math"


def test_subtree_membership() -> None:
    assert tm.is_in_subtree(0, 3)
    assert tm.is_in_subtree(3, 3)
    assert tm.is_in_subtree(6, 3)
    assert not tm.is_in_subtree(3, 1)  # an ancestor is not inside its child's subtree
    assert not tm.is_in_subtree(8, 3)
    assert not tm.is_in_subtree(7, 3)


def test_common_ancestor_examples() -> None:
    assert tm.common_ancestor(A, B) == T
    assert tm.common_ancestor(A, E) == W
    assert tm.common_ancestor(G, 14) == Z
    assert tm.common_ancestor(A, A) == A
    assert tm.common_ancestor(A, U) == U
    assert tm.common_ancestor(Y, F) == Y


@given(trees())
def test_children_and_parent_agree(tree: tuple[int, int]) -> None:
    n_leaves, node = tree
    if tm.is_leaf(node):
        return
    for child in (tm.left(node), tm.right(node)):
        assert tm.parent(child, n_leaves) == node
        assert tm.level(child) == tm.level(node) - 1
    assert tm.sibling(tm.left(node), n_leaves) == tm.right(node)
    assert tm.sibling(tm.right(node), n_leaves) == tm.left(node)


@given(trees())
def test_paths_end_at_the_root_and_pair_up(tree: tuple[int, int]) -> None:
    n_leaves, node = tree
    path = tm.direct_path(node, n_leaves)
    co = tm.copath(node, n_leaves)
    assert len(path) == len(co) == tm.level(tm.root(n_leaves)) - tm.level(node)
    if path:
        assert path[-1] == tm.root(n_leaves)
    below = [node, *path]
    for child, copath_node, ancestor in zip(below, co, path, strict=False):
        assert tm.parent(copath_node, n_leaves) == ancestor
        assert tm.sibling(child, n_leaves) == copath_node
        assert tm.is_in_subtree(node, ancestor)


@given(trees(), st.integers(min_value=0, max_value=(1 << 21) - 2))
def test_common_ancestor_is_the_lowest_shared_node(tree: tuple[int, int], other: int) -> None:
    n_leaves, a = tree
    b = other % tm.node_width(n_leaves)
    ancestor = tm.common_ancestor(a, b)
    on_a = [a, *tm.direct_path(a, n_leaves)]
    on_b = [b, *tm.direct_path(b, n_leaves)]
    shared = set(on_a) & set(on_b)
    assert ancestor == min(shared, key=tm.level)
