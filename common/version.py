"""The product's version: the package version in ``pyproject.toml``, read from its metadata."""

from __future__ import annotations

from importlib import metadata

DISTRIBUTION = "ops-management"


def package_version() -> str | None:
    """``0.1.0``, or ``None`` where the package metadata is missing (a damaged frozen build)."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None
