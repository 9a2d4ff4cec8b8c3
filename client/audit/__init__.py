"""The auditor (DESIGN §1, §6; ATTACKS Z1–Z4): check a relay from outside, trusting neither its
operator nor its code, and produce a report a data-protection officer can sign.

Four checks, each a module, each returning a :class:`~client.audit.results.CheckResult`:

1. :mod:`~client.audit.inventory` — the stored tables, columns, files and loggers are exactly
   those of docs/zero-knowledge.md (kept as data in :mod:`~client.audit.documented`);
2. :mod:`~client.audit.payloads` — every payload parses as its documented ciphertext form,
   with padded sizes and no readable text (:mod:`~client.audit.group_messages`,
   :mod:`~client.audit.cleartext`, :mod:`~client.audit.sizes`);
3. :mod:`~client.audit.canary` — markers planted through the real client
   (:mod:`~client.audit.canary_post`) are nowhere on the relay's disk or in its logs;
4. :mod:`~client.audit.translog` — the transparency log replays, its signatures hold, the
   heads clients saw (:mod:`~client.audit.heads`) match it without a fork, and what the relay
   serves (:mod:`~client.audit.served`) and enrolled (:mod:`~client.audit.enrolments`) is in it.

:mod:`~client.audit.auditor` runs them on data opened read-only
(:mod:`~client.audit.relay_data`), :mod:`~client.audit.report` renders JSON and HTML, and
:mod:`~client.audit.cli` is the ``casecircle audit`` command. docs/guide-auditor.md is the
auditor's guide.
"""
