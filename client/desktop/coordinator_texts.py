"""Texts of the values the coordinator's tabs show — device and invite statuses, revocation
reasons, short ids — in the user's language (Qt translator context ``CoordinatorTexts``).
They are shared, so a status reads the same in every tab that shows it."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from client.coordinator import InviteStatus
from client.desktop.coordinator_session import DeviceRow, InviteView
from client.desktop.messages import when_text
from client.directory import DeviceStanding

translate = QCoreApplication.translate  # the name lupdate looks for, with its context


def short_id(identifier: bytes) -> str:
    return identifier.hex()[:16]


def reason_text(reason: str | None) -> str:
    """A revocation reason's stable code in words (an unknown code is shown as it is)."""
    texts = {
        "unspecified": translate("CoordinatorTexts", "no reason given"),
        "device-lost": translate("CoordinatorTexts", "device lost"),
        "key-compromise": translate("CoordinatorTexts", "key compromised"),
        "member-left": translate("CoordinatorTexts", "member left"),
        "superseded": translate("CoordinatorTexts", "superseded"),
    }
    return texts.get(reason or "", reason or "")


def status_word(status: DeviceStanding) -> str:
    return {
        DeviceStanding.ACTIVE: translate("CoordinatorTexts", "active"),
        DeviceStanding.NOT_YET_VALID: translate("CoordinatorTexts", "not yet valid"),
        DeviceStanding.EXPIRED: translate("CoordinatorTexts", "expired"),
        DeviceStanding.REVOKED: translate("CoordinatorTexts", "revoked"),
    }[status]


def device_status_text(row: DeviceRow) -> str:
    """A device's status with its date: until when, since when, and why revoked."""
    if row.status == DeviceStanding.REVOKED:
        return translate("CoordinatorTexts", "revoked {0} ({1})").format(
            when_text(row.revoked_at or 0), reason_text(row.revocation_reason)
        )
    if row.status == DeviceStanding.EXPIRED:
        return translate("CoordinatorTexts", "expired {0}").format(when_text(row.not_after))
    if row.status == DeviceStanding.NOT_YET_VALID:
        return translate("CoordinatorTexts", "not yet valid")
    return translate("CoordinatorTexts", "active until {0}").format(when_text(row.not_after))


def invite_status_text(invite: InviteView) -> str:
    if invite.status == InviteStatus.USED:
        return translate("CoordinatorTexts", "used by device {0}").format(
            short_id(invite.device_id)
        )
    if invite.status == InviteStatus.EXPIRED:
        return translate("CoordinatorTexts", "expired {0}").format(when_text(invite.expires_at))
    return translate("CoordinatorTexts", "open until {0}").format(when_text(invite.expires_at))
