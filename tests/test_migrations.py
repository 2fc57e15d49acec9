"""The Alembic revisions are the schema's source: the models must agree with them."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from tipline.migrate import alembic_config
from tipline.orm import Base


def test_models_match_migrations(migrated_template: str) -> None:
    url = migrated_template if "://" in migrated_template else f"sqlite:///{migrated_template}"
    engine = create_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
        head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
        assert context.get_current_revision() == head
    engine.dispose()
    assert diff == [], f"models changed without a revision: {diff}"


def test_single_head() -> None:
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
