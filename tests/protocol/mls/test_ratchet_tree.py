"""The ratchet tree value (RFC 9420 §4.1, §7.7, §12.1.1–§12.1.3, §12.4.3.3)."""

from __future__ import annotations

import pytest

from protocol.codec import Writer
from protocol.errors import DecodeError
from protocol.mls import tree_nodes
from protocol.mls.leaf_node import LeafNode
from protocol.mls.ratchet_tree import BlankLeafError, RatchetTree, TreeShapeError
from protocol.mls.tree_math import TreeMathError
from protocol.mls.tree_nodes import Node, ParentNode, write_node
from tests.protocol.mls.signed_trees import TreeBuilder


def parent(key: bytes, *unmerged: int) -> ParentNode:
    return ParentNode(encryption_key=key, unmerged_leaves=unmerged)


def leaf(key: bytes) -> LeafNode:
    return TreeBuilder(key.decode()).key_package_leaf(key.decode())


def figure_10() -> RatchetTree:
    """RFC 9420 Figure 10: X[B] over A B _ D, Y over E F, H alone; the rest blank."""
    a, b, d, e, f, h = (leaf(name) for name in (b"A", b"B", b"D", b"E", b"F", b"H"))
    x, y = parent(b"X", 1), parent(b"Y")
    return RatchetTree([a, None, b, x, None, None, d, None, e, y, f, None, None, None, h])


def figure_11() -> RatchetTree:
    """RFC 9420 Figure 11: T over A B, X over E F, Y and W; G alone; U, V, Z, H blank."""
    a, b, e, f, g = (leaf(name) for name in (b"A", b"B", b"E", b"F", b"G"))
    t, w, x, y = parent(b"T"), parent(b"W"), parent(b"X"), parent(b"Y")
    return RatchetTree([a, t, b, None, None, None, None, w, e, x, f, y, g])


def raw_tree(*entries: Node | None) -> bytes:
    """An ``optional<Node> ratchet_tree<V>`` written entry by entry, blanks included."""
    body = Writer()
    for entry in entries:
        if entry is None:
            body.uint8(0)
        else:
            body.uint8(1)
            write_node(body, entry)
    w = Writer()
    w.opaque(body.getvalue())
    return w.getvalue()


# --- wire form -------------------------------------------------------------------------


def test_round_trip_of_a_signed_group() -> None:
    tree = TreeBuilder().group(5)
    assert tree.leaf_count == 8
    decoded = RatchetTree.from_bytes(tree.to_bytes())
    assert decoded == tree
    assert decoded.to_bytes() == tree.to_bytes()


def test_trailing_blank_nodes_are_not_sent_and_are_restored() -> None:
    tree = figure_11()
    assert tree.node_count == 15
    assert len(tree.wire_nodes()) == 13
    assert tree.to_bytes() == raw_tree(*tree.nodes[:13])
    decoded = RatchetTree.from_bytes(tree.to_bytes())
    assert decoded.node_count == 15
    assert decoded == tree


def test_decoding_pads_to_the_smallest_full_tree() -> None:
    a, b, c = leaf(b"A"), leaf(b"B"), leaf(b"C")
    assert RatchetTree.from_bytes(raw_tree(a)).leaf_count == 1
    assert RatchetTree.from_bytes(raw_tree(a, None, b)).leaf_count == 2
    assert RatchetTree.from_bytes(raw_tree(a, None, b, None, c)).leaf_count == 4


def test_decode_refuses_a_tree_ending_in_a_blank_node() -> None:
    with pytest.raises(DecodeError, match="non-blank"):
        RatchetTree.from_bytes(raw_tree(leaf(b"A"), None, leaf(b"B"), None))
    with pytest.raises(DecodeError):
        RatchetTree.from_bytes(raw_tree())


def test_decode_refuses_nodes_of_the_wrong_kind_for_their_position() -> None:
    with pytest.raises(DecodeError, match="must be a"):
        RatchetTree.from_bytes(raw_tree(parent(b"P")))
    with pytest.raises(DecodeError, match="must be a"):
        RatchetTree.from_bytes(raw_tree(leaf(b"A"), leaf(b"B"), leaf(b"C")))


def test_building_refuses_nodes_of_the_wrong_kind() -> None:
    with pytest.raises(TreeShapeError):
        RatchetTree([leaf(b"A"), leaf(b"B"), leaf(b"C")])


def test_decode_refuses_trailing_bytes() -> None:
    with pytest.raises(DecodeError, match="trailing"):
        RatchetTree.from_bytes(raw_tree(leaf(b"A")) + b"\x00")


def test_extension_payload_round_trip() -> None:
    tree = figure_11()
    extension = tree.to_extension()
    assert isinstance(extension, tree_nodes.RatchetTreeExtension)
    assert extension.nodes == tree.wire_nodes()
    reparsed = tree_nodes.RatchetTreeExtension.from_bytes(extension.to_bytes())
    assert RatchetTree.from_extension(reparsed) == tree


def test_a_tree_without_members_cannot_be_sent() -> None:
    with pytest.raises(TreeShapeError):
        RatchetTree().to_bytes()


# --- add (§12.1.1) ---------------------------------------------------------------------


def test_first_add_to_an_empty_tree() -> None:
    tree = RatchetTree()
    assert tree.leaf_count == 0
    assert tree.add_leaf(leaf(b"A")) == 0
    assert tree.leaf_count == 1


def test_add_fills_the_leftmost_blank_leaf() -> None:
    tree = figure_11()
    new = leaf(b"N")
    assert tree.add_leaf(new) == 2
    assert tree.leaf_node(2) == new
    assert tree.add_leaf(leaf(b"M")) == 3
    assert tree.add_leaf(leaf(b"O")) == 7
    assert tree.leaf_count == 8


def test_add_extends_a_full_tree_to_the_right() -> None:
    tree = RatchetTree([leaf(b"A"), parent(b"P"), leaf(b"B")])
    assert tree.add_leaf(leaf(b"C")) == 2
    assert tree.leaf_count == 4
    assert tree.node(3) is None  # the new root is blank
    assert tree.parent_node(1) == parent(b"P")  # the old root is not above leaf 2


def test_add_marks_the_new_leaf_unmerged_at_non_blank_parents_on_its_path() -> None:
    tree = figure_11()
    assert tree.add_leaf(leaf(b"N")) == 2
    # Leaf 2's direct path is V(5, blank), U(3, blank), W(7).
    assert tree.parent_node(7) == parent(b"W", 2)
    assert tree.parent_node(1) == parent(b"T")  # T is not above leaf 2
    assert tree.add_leaf(leaf(b"M")) == 3
    assert tree.parent_node(7) == parent(b"W", 2, 3)  # kept sorted (§7.1)
    assert tree.add_leaf(leaf(b"O")) == 7
    # Z(13) is blank; Y(11) and W(7) are not. Unmerged lists stay sorted.
    assert tree.parent_node(11) == parent(b"Y", 7)
    assert tree.parent_node(7) == parent(b"W", 2, 3, 7)


# --- update (§12.1.2) and remove (§12.1.3) ---------------------------------------------


def test_update_replaces_the_leaf_and_blanks_its_direct_path() -> None:
    builder = TreeBuilder()
    tree = builder.group(4, committer=0)
    new = builder.update_leaf(tree, 2)
    tree.update_leaf(2, new)
    assert tree.leaf_node(2) == new
    assert tree.node(5) is None
    assert tree.node(3) is None
    assert tree.node(1) is not None  # the committer's other path node stays


def test_update_of_a_blank_leaf_is_refused() -> None:
    tree = figure_11()
    with pytest.raises(BlankLeafError):
        tree.update_leaf(2, leaf(b"N"))


def test_remove_blanks_the_leaf_and_its_path() -> None:
    tree = figure_11()
    tree.remove_leaf(4)
    assert tree.leaf_node(4) is None
    assert [tree.node(i) for i in (9, 11, 7)] == [None, None, None]
    assert tree.leaf_count == 8  # leaves 5 and 6 keep the right half


def test_remove_truncates_the_empty_right_subtree() -> None:
    tree = RatchetTree()
    for name in (b"A", b"B", b"C", b"D", b"E"):
        tree.add_leaf(leaf(name))
    assert tree.leaf_count == 8
    tree.remove_leaf(4)
    assert tree.leaf_count == 4
    assert tree.node_count == 7
    tree.remove_leaf(3)
    tree.remove_leaf(2)
    assert tree.leaf_count == 2
    tree.remove_leaf(0)
    assert tree.leaf_count == 2  # leaf 1 is still in the right half


def test_remove_truncates_by_several_levels_at_once() -> None:
    tree = RatchetTree()
    tree.add_leaf(leaf(b"A"))
    for index in range(1, 9):
        assert tree.add_leaf(leaf(bytes([65 + index]))) == index
    for index in range(1, 8):
        tree.remove_leaf(index)
    assert tree.leaf_count == 16
    tree.remove_leaf(8)
    assert tree.leaf_count == 1
    assert tree.wire_nodes() == (tree.leaf_node(0),)


@pytest.mark.parametrize("leaf_index", [2, 8, 2**31 - 1])
def test_remove_of_a_blank_or_absent_leaf_is_refused(leaf_index: int) -> None:
    tree = figure_11()
    before = tree.copy()
    with pytest.raises(BlankLeafError):
        tree.remove_leaf(leaf_index)
    assert tree == before


# --- resolution and filtered direct path (§4.1.1, §4.1.2) ------------------------------


def test_resolution_follows_figure_10() -> None:
    tree = figure_10()
    assert tree.resolution(3) == [3, 2]  # X and its unmerged leaf B
    assert tree.resolution(4) == []
    assert tree.resolution(12) == []
    assert tree.resolution(7) == [3, 2, 9, 14]  # X, B, Y, H
    assert tree.resolution(1) == [0, 2]
    assert tree.resolution(13) == [14]


def test_resolution_leaves_out_excluded_leaves() -> None:
    tree = figure_10()
    assert tree.resolution(7, exclude_leaves=[1]) == [3, 9, 14]
    assert tree.resolution(7, exclude_leaves=[7]) == [3, 2, 9]


def test_filtered_direct_paths_follow_figure_11() -> None:
    tree = figure_11()
    assert tree.direct_path(0) == [1, 3, 7]
    assert tree.filtered_direct_path(0) == [1, 7]
    assert tree.filtered_direct_path(1) == [1, 7]
    assert tree.filtered_direct_path(4) == [9, 11, 7]
    assert tree.filtered_direct_path(5) == [9, 11, 7]
    assert tree.filtered_direct_path(6) == [11, 7]


def test_filtered_direct_path_skips_nodes_over_an_empty_copath() -> None:
    a, c = leaf(b"A"), leaf(b"C")
    tree = RatchetTree([a, None, None, None, c])  # leaf 1 and leaf 3 blank
    assert tree.direct_path(0) == [1, 3]
    assert tree.filtered_direct_path(0) == [3]
    assert tree.filtered_direct_path(2) == [3]
    assert RatchetTree([a]).filtered_direct_path(0) == []


def test_resolution_of_the_blank_padding_follows_changes() -> None:
    a, b, c = leaf(b"A"), leaf(b"B"), leaf(b"C")
    tree = RatchetTree([a, None, b, None, c])  # 8 leaf slots after one extension below
    assert tree.resolution(5) == [4]
    assert tree.resolution(3) == [0, 2, 4]
    assert tree.add_leaf(leaf(b"D")) == 3
    tree.add_leaf(leaf(b"E"))  # into the padding: leaf 4, node 8
    assert tree.leaf_count == 8
    assert tree.resolution(11) == [8]
    assert tree.resolution(7) == [0, 2, 4, 6, 8]
    tree.blank(8)
    assert tree.resolution(11) == []
    assert tree.resolution(7) == [0, 2, 4, 6]
    tree.truncate()
    assert tree.leaf_count == 4
    twin = tree.copy()
    twin.blank(6)
    assert (tree.resolution(5), twin.resolution(5)) == ([4, 6], [4])


def test_copath_child() -> None:
    tree = figure_11()
    assert tree.copath_child(7, 0) == 11
    assert tree.copath_child(7, 6) == 3
    assert tree.copath_child(1, 1) == 0
    with pytest.raises(TreeMathError):
        tree.copath_child(9, 0)


# --- structure (§12.4.3.1) -------------------------------------------------------------


def test_consistent_unmerged_leaves_pass() -> None:
    figure_10().check_unmerged_leaves()
    tree = figure_11()
    for name in (b"N", b"M", b"O"):
        tree.add_leaf(leaf(name))
    tree.check_unmerged_leaves()


@pytest.mark.parametrize(
    ("nodes", "message"),
    [
        ([leaf(b"A"), parent(b"P", 1), None], "not a member below"),  # blank leaf
        ([leaf(b"A"), parent(b"P", 1, 1), leaf(b"B")], "out of order or twice"),
        ([leaf(b"A"), parent(b"P", 2), leaf(b"B")], "not a member below"),  # outside
        (
            [
                leaf(b"A"),
                parent(b"P"),
                leaf(b"B"),
                parent(b"Q", 3, 2),
                leaf(b"C"),
                None,
                leaf(b"D"),
            ],
            "out of order",  # §7.1: unmerged leaves are sorted
        ),
        (
            [leaf(b"A"), parent(b"P"), leaf(b"B"), parent(b"Q", 1), leaf(b"C")],
            "not at 1",  # unmerged at the root but not at P between
        ),
        (
            [leaf(b"A"), parent(b"P"), leaf(b"B"), parent(b"Q", 0), leaf(b"C"), None, None],
            "not at 1",
        ),
    ],
)
def test_inconsistent_unmerged_leaves_are_refused(nodes: list[Node | None], message: str) -> None:
    with pytest.raises(TreeShapeError, match=message):
        RatchetTree(nodes).check_unmerged_leaves()


def test_node_access_checks_the_index() -> None:
    tree = figure_11()
    with pytest.raises(TreeMathError):
        tree.node(15)
    with pytest.raises(TreeMathError):
        tree.parent_node(2)
    with pytest.raises(TreeMathError):
        tree.set_parent(4, parent(b"P"))
    assert tree.leaf_node(3) is None
    assert tree.is_blank(3)


# --- value behaviour -------------------------------------------------------------------


def test_copy_is_independent() -> None:
    tree = figure_11()
    twin = tree.copy()
    assert twin == tree
    twin.add_leaf(leaf(b"N"))
    assert twin != tree
    assert tree.leaf_node(2) is None


def test_members_and_parents_list_non_blank_nodes() -> None:
    tree = figure_11()
    assert [index for index, _ in tree.members()] == [0, 1, 4, 5, 6]
    assert [index for index, _ in tree.parents()] == [1, 7, 9, 11]
    assert "8 leaves" in repr(tree)
