"""Shared fixtures: where the MLS interoperability vectors are, and whether they must be."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from client.cli import default_vectors_dir


def vectors_required() -> bool:
    """In CI the vectors are part of the environment; their absence is a failure there."""
    return os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    path = default_vectors_dir()
    if not path.is_dir():
        message = f"MLS test vectors not found at {path} (set MLS_TEST_VECTORS)"
        if vectors_required():
            pytest.fail(message)
        pytest.skip(message)
    return path
