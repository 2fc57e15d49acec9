"""Walls in the layout: sealing and the shared types load neither Flask nor SQLAlchemy."""

from __future__ import annotations

import subprocess
import sys


def _loaded_after(imports: str) -> set[str]:
    code = (f"import sys\nimport {imports}\n"
            "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def test_crypto_and_types_load_no_web_or_orm_framework() -> None:
    loaded = _loaded_after("tipline.crypto, tipline.types")
    assert "tipline" in loaded
    assert not loaded & {"flask", "sqlalchemy", "werkzeug", "jinja2"}


def test_built_in_plugins_load_no_web_or_orm_framework() -> None:
    loaded = _loaded_after("plugins.threat, plugins.deib, plugins.cyberbullying, plugins.wellbeing, "
                           "plugins.learned, plugins.routing_rules, plugins.webhook, plugins.smtp")
    assert not loaded & {"flask", "sqlalchemy"}


def test_the_orm_base_knows_no_flask() -> None:
    loaded = _loaded_after("tipline.orm, tipline.models")
    assert "sqlalchemy" in loaded
    assert "flask" not in loaded
