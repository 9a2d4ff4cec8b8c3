"""RFC 9420 §12.4.3.1: joining a group from a Welcome, trusting nothing until it is checked.

    Welcome ──open with our init key──► GroupSecrets, GroupInfo (unverified)
      ratchet tree (extension, or supplied) ──verify tree (§12.4.3.1)──► trusted tree
      GroupInfo signature by the tree's leaf ``signer`` ──► epoch secrets, confirmation tag
      our leaf = the leaf identical to our KeyPackage's; path keys from the path secret

Only then is an :class:`~protocol.mls.group_state.EpochState` made.
"""

from __future__ import annotations

from crypto.hpke import HpkePrivateKey
from crypto.suites import CipherSuite
from protocol.errors import ValidationError
from protocol.mls.extensions import RequiredCapabilities, find_extension
from protocol.mls.group_state import EpochState
from protocol.mls.key_package import KeyPackage
from protocol.mls.leaf_validation import Now
from protocol.mls.ratchet_tree import RatchetTree
from protocol.mls.tree_nodes import RatchetTreeExtension
from protocol.mls.tree_validation import verify_ratchet_tree
from protocol.mls.treekem import join_path_keys
from protocol.mls.welcome import Welcome
from protocol.mls.welcome_protection import PskResolver, no_psks, open_welcome


class JoinError(ValidationError):
    """A Welcome cannot be joined: no tree, or our leaf is not in it."""

    code = "join"


def join_from_welcome(
    suite: CipherSuite,
    welcome: Welcome,
    key_package: KeyPackage,
    init_private_key: HpkePrivateKey,
    encryption_private_key: HpkePrivateKey,
    now: Now,
    *,
    ratchet_tree: RatchetTree | None = None,
    psks: PskResolver = no_psks,
) -> EpochState:
    """Join from ``welcome`` with our ``key_package`` and its private keys (§12.4.3.1).

    ``ratchet_tree`` is used when the GroupInfo carries no ratchet_tree extension.
    """
    unverified = open_welcome(suite, welcome, key_package, init_private_key, psks)
    group_info = unverified.unverified_group_info
    context = group_info.group_context
    carried = find_extension(group_info.extensions, RatchetTreeExtension)
    if carried is not None:
        tree = RatchetTree.from_extension(carried)
    elif ratchet_tree is not None:
        tree = ratchet_tree.copy()
    else:
        raise JoinError("the Welcome carries no ratchet tree and none was supplied")
    verify_ratchet_tree(
        suite,
        tree,
        group_id=context.group_id,
        tree_hash=context.tree_hash,
        now=now,
        required=find_extension(context.extensions, RequiredCapabilities),
    )
    if not 0 <= group_info.signer < tree.leaf_count or tree.leaf_node(group_info.signer) is None:
        raise JoinError(f"the GroupInfo signer {group_info.signer} is not a member")
    joined = unverified.verify(tree.member(group_info.signer).signature_key)

    own = next((index for index, leaf in tree.members() if leaf == key_package.leaf_node), None)
    if own is None:
        raise JoinError("our key package's leaf is not in the tree")
    keys = join_path_keys(
        suite,
        tree,
        own,
        committer=group_info.signer,
        leaf_private_key=encryption_private_key,
        path_secret=joined.path_secret,
    )
    return EpochState.start(
        suite, context, tree, keys, joined.epoch_secrets, joined.transcript_hashes.interim
    )
