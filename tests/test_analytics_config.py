"""The `[analytics]` table: `enabled`, default true as in Codex, and clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from codex_otel import ConfigError
from codex_otel.analytics import AnalyticsClient, AnalyticsConfig, load_analytics_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return path


def test_missing_file_or_table_means_enabled(tmp_path: Path) -> None:
    assert load_analytics_config(tmp_path / "absent.toml") == AnalyticsConfig(enabled=True)
    assert load_analytics_config(write(tmp_path, "[otel]\n")) == AnalyticsConfig(enabled=True)


def test_enabled_false_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, "[analytics]\nenabled = false\n")
    config = load_analytics_config(path)
    assert (config, config.source) == (AnalyticsConfig(enabled=False), str(path))


def test_default_path_follows_codex_home(tmp_path: Path) -> None:
    write(tmp_path, "[analytics]\nenabled = false\n")
    assert not load_analytics_config(env={"CODEX_HOME": str(tmp_path)}).enabled


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[analytics]\nenabled = "no"\n',
            "analytics.enabled: expected true or false, got a string",
        ),
        (
            "[analytics]\nenable = true\n",
            "analytics.enable: unknown key; expected one of 'enabled'",
        ),
        ("analytics = 3\n", "analytics: expected a table, got an integer"),
        ("[analytics\n", "analytics: expected valid TOML"),
    ],
)
def test_bad_values_name_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_analytics_config(path)
    assert str(caught.value).startswith(f"{path}: {message}")
    assert "\n" not in str(caught.value)


def test_from_mapping_and_a_disabled_client() -> None:
    config = AnalyticsConfig.from_mapping({"enabled": False})
    client = AnalyticsClient.from_config(config)
    assert (config.source, client.enabled) == ("<mapping>", False)
    with pytest.raises(ConfigError, match=r"^<mapping>: analytics.enabled: expected true or false"):
        AnalyticsConfig.from_mapping({"enabled": 1})
