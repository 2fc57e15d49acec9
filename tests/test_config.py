from __future__ import annotations

from pathlib import Path

import pytest

from tipline.config import ConfigError, load_settings

GOOD = """
[district]
name = "Test District"
timezone = "America/New_York"
[hours]
start = "08:00"
end = "15:00"
[police]
dispatch = "webhook:http://127.0.0.1:9/d"
welfare = "smtp:welfare@pd.example.org"
[[schools]]
code = "AHS"
name = "A High School"
"""


def env(tmp_path: Path, toml: str | None = None, **extra: str) -> dict[str, str]:
    values = {"TIPLINE_SECRET_KEY": "k" * 40, "TIPLINE_INSTANCE": str(tmp_path)}
    if toml is not None:
        path = tmp_path / "district.toml"
        path.write_text(toml)
        values["TIPLINE_CONFIG"] = str(path)
    values.update(extra)
    return values


def test_demo_district_loads(tmp_path: Path) -> None:
    settings = load_settings(env(tmp_path))
    district = settings.district
    assert set(district.schools) == {"SHS", "BMS", "CMS", "CES", "GFS", "KHS", "LLS", "SES"}
    assert district.timezone.key == "America/New_York"
    assert district.schools["SHS"].name == "Staples High School"
    assert settings.database_url == f"sqlite:///{tmp_path / 'tipline.db'}"


def test_custom_district(tmp_path: Path) -> None:
    settings = load_settings(env(tmp_path, GOOD, TIPLINE_DATABASE_URL="postgresql://u@h/db",
                                 TIPLINE_REDIS_URL="redis://127.0.0.1:6379/0"))
    assert list(settings.district.schools) == ["AHS"]
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.redis_url == "redis://127.0.0.1:6379/0"


def test_every_mistake_is_reported(tmp_path: Path) -> None:
    bad = GOOD.replace('"America/New_York"', '"Mars/Olympus"').replace('"15:00"', '"7pm"')
    bad = bad.replace('code = "AHS"', 'code = "a"').replace('"webhook:http://127.0.0.1:9/d"', '"nowhere"')
    bad += '\nholidays = ["2026-02-30"]\n'
    with pytest.raises(ConfigError) as err:
        load_settings(env(tmp_path, bad, TIPLINE_SECRET_KEY="short", TIPLINE_DATABASE_URL="mysql://x",
                          TIPLINE_REDIS_URL="http://x"))
    text = str(err.value)
    for expected in ("district.timezone", "hours.end", "schools[0].code", "police.dispatch", "holidays",
                     "TIPLINE_SECRET_KEY", "TIPLINE_DATABASE_URL", "TIPLINE_REDIS_URL"):
        assert expected in text, expected
    assert len(err.value.problems) >= 8


def test_missing_file_and_broken_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no file at"):
        load_settings(env(tmp_path, TIPLINE_CONFIG=str(tmp_path / "missing.toml")))
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(env(tmp_path, "[district\nname="))


def test_secret_key_from_instance(tmp_path: Path) -> None:
    (tmp_path / "secret_key").write_text("s" * 48 + "\n")
    settings = load_settings({"TIPLINE_INSTANCE": str(tmp_path)})
    assert settings.secret_key == "s" * 48
    with pytest.raises(ConfigError, match="TIPLINE_SECRET_KEY"):
        load_settings({"TIPLINE_INSTANCE": str(tmp_path / "empty")})
