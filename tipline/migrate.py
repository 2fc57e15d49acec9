"""Running the Alembic revisions from code (``tipline init``, the tests)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from tipline.packaged import resource_dir


def alembic_config(url: str) -> Config:
    # Everything the revisions need is set here; alembic.ini (at the checkout's root, for the
    # `alembic` command) only adds logging, which tipline configures itself.
    cfg = Config()
    cfg.set_main_option("script_location", str(resource_dir("migrations")))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)
