"""The typed errors of a member's case work (ATTACKS A–C): each has a stable ``code``, the
one the security event log keeps. Those of receiving are recorded and the item is not
shown; a gap (:class:`GapDetectedError` and its kinds) is also listed by ``Member.gaps``.
"""

from __future__ import annotations

from protocol.errors import ValidationError


class CaseError(ValidationError):
    code = "case"


class UnknownCaseError(CaseError):
    code = "unknown_case"


class RemovedFromCaseError(CaseError):
    """This device was removed from the case: it can read what it had, nothing new."""

    code = "removed_from_case"


class UntrustedMemberError(CaseError):
    """The case holds a device without a valid logged credential; nothing is sent to it."""

    code = "untrusted_member"


class NotInCaseError(CaseError):
    code = "not_in_case"


class GapDetectedError(CaseError):
    """Messages are missing: the relay skipped sequence numbers (ATTACKS B4)."""

    code = "gap"


class LaterEpochError(GapDetectedError):
    """A message of an epoch this device never reached: a commit was withheld (B4, B12)."""

    code = "later_epoch"


class WithheldTailError(GapDetectedError):
    """The relay announced messages it did not deliver (B5)."""

    code = "withheld_tail"


class MissingItemError(GapDetectedError):
    """An author's counters skip: the relay dropped or truncated items (B4, B5, B10)."""

    code = "missing_item"


class ReplayedItemError(CaseError):
    """An author's counter seen before: a replayed or duplicated item (B1, C3)."""

    code = "replayed_item"


class ItemCounterError(CaseError):
    """A content item without a counter (counters start at 1)."""

    code = "item_counter"


class ReorderedItemError(CaseError):
    """An item that arrived after a later item of its author (B3); it is still shown."""

    code = "reordered_item"


class LateItemError(CaseError):
    """An item of an epoch that had ended before its place in the log: what a removed
    device posts with its last epoch's key through a colluding relay (C2, B1)."""

    code = "late_item"


class ForkedEpochError(CaseError):
    """The relay accepted our commit but its log holds another one for that epoch (A6)."""

    code = "forked_epoch"


class RelayOrderError(CaseError):
    """The relay served a sequence number at or below one it served before."""

    code = "relay_order"


class WrongChannelError(CaseError):
    """A message of one kind where another is expected (ATTACKS A9)."""

    code = "wrong_channel"


class KeyPackageMismatchError(CaseError):
    """The relay answered a KeyPackage claim with another device's KeyPackage (A4)."""

    code = "key_package_device"


class KeyPackageUsedError(CaseError):
    """A Welcome for a KeyPackage this device no longer holds: used before (A10)."""

    code = "key_package_used"


class RingConflictError(CaseError):
    """A history ring whose key for an epoch differs from the one held here (A8)."""

    code = "ring_conflict"


class AuthorRevokedError(CaseError):
    """An item received live from a device the log shows revoked: shown, flagged (C2)."""

    code = "author_revoked"


class AuthorMismatchError(CaseError):
    """An item's signed author is not the MLS member that sent it (ATTACKS B8)."""

    code = "author_mismatch"


class ExternalSenderError(CaseError):
    """An external proposal not signed by a logged coordinator device."""

    code = "external_sender"


class UntrustedWelcomeError(UntrustedMemberError):
    """A Welcome signed by a committer whose credential does not hold: a case made up by
    the relay or by a device it invented (ATTACKS A1)."""

    code = "untrusted_welcome"
