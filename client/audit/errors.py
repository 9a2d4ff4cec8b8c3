"""Why an audit could not run: errors of the auditor's own input, not findings about the relay.

A check that *runs* and finds a problem reports it as a failed check with evidence
(:mod:`client.audit.results`); these errors are for an audit that cannot start or finish —
a data directory that is not one, an unreadable heads or markers file, a canary that could
not be planted. Each has a stable ``code`` in the one hierarchy of :mod:`crypto.errors`.
"""

from __future__ import annotations

from crypto.errors import CasecircleError


class AuditError(CasecircleError):
    """The audit could not be carried out."""

    code = "audit"


class AuditInputError(AuditError):
    """A path or value given to the auditor is missing, unreadable or malformed."""

    code = "audit_input"


class RelayDataError(AuditError):
    """The relay's database could not be opened read-only, or is not consistent."""

    code = "audit_relay_data"


class HeadsFileError(AuditInputError):
    """A file of tree heads exported by a client does not have the documented format."""

    code = "audit_heads_file"


class MarkersFileError(AuditInputError):
    """A canary markers file does not have the documented format."""

    code = "audit_markers_file"


class CanaryError(AuditError):
    """The canary could not be planted: enrolment, posting or reading it back failed."""

    code = "audit_canary"
