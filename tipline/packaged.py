"""Where the templates and the Alembic revisions are.

They live at the repository root (``templates/``, ``migrations/``) so that a checkout reads
them in place; a built wheel carries them inside the package (``tipline/templates``,
``tipline/migrations``: see ``[tool.setuptools.package-dir]`` in ``pyproject.toml``).
"""

from __future__ import annotations

from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """``tipline/<name>`` in an installed wheel, else ``<checkout>/<name>``."""
    inside = PACKAGE / name
    return inside if inside.is_dir() else PACKAGE.parent / name
