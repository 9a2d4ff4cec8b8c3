"""The relay's storage: an interface (:mod:`.interface`) and its SQLite implementation."""
