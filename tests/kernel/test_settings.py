from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from chirpflow.errors import ConfigError
from chirpflow.settings import (
    Environment,
    load_settings,
    parse_duration,
    redact_url,
    settings_from_dict,
)


def test_defaults_are_usable_without_a_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHIRPFLOW_CONFIG", raising=False)
    s = load_settings(None)
    assert s.pipeline.chunk_size == 100
    assert s.pipeline.max_wait == timedelta(seconds=30)
    assert s.pipeline.dedup_window == timedelta(days=7)
    assert s.pipeline.snapshot_interval == timedelta(seconds=10)
    assert [src.type for src in s.sources] == ["synthetic"]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("30s", 30), ("5m", 300), ("7d", 604800), ("250ms", 0.25), ("1.5h", 5400)],
)
def test_durations(value: object, seconds: float) -> None:
    assert parse_duration(value).total_seconds() == seconds


@pytest.mark.parametrize("value", [7, 7.5, "7", " 30 "])
def test_a_duration_without_a_unit_names_the_key_and_the_form(value: object) -> None:
    with pytest.raises(ConfigError) as err:
        settings_from_dict({"pipeline": {"dedup_window": value}})
    (line,) = str(err.value).splitlines()[1:]
    assert line.strip().startswith("pipeline.dedup_window: expected a duration with a unit")
    assert "'30s'" in line and "'7d'" in line and f"(got {value!r})" in line


@pytest.mark.parametrize(
    "doc",
    [
        {"pipeline": {"max_wait": "soon"}},
        {"pipeline": {"dedup_window": 7}},
        {"sources": [{"name": "a", "type": "jsonl"}]},
        {"alerts": {"rules": [{"name": "r", "channels": ["nope"]}]}},
    ],
)
def test_error_messages_say_each_thing_once(doc: dict[str, object]) -> None:
    with pytest.raises(ConfigError) as err:
        settings_from_dict(doc)
    message = str(err.value)
    assert message.count("got") <= 1, message
    assert "{" not in message, message  # no dump of the whole table


def test_example_config_is_valid(repo_root: Path) -> None:
    s = load_settings(repo_root / "chirpflow.example.toml")
    assert s.sources[0].name == "demo"


@pytest.mark.parametrize(
    ("doc", "needle"),
    [
        ({"pipeline": {"max_wait": "soon"}}, "pipeline.max_wait: expected a duration"),
        ({"pipeline": {"chunk_size": 0}}, "pipeline.chunk_size"),
        ({"pipeline": {"chunk_sise": 10}}, "pipeline.chunk_sise: unknown setting"),
        ({"pipeline": {"chunk_key": "mood"}}, "pipeline.chunk_key"),
        ({"sources": [{"name": "a", "type": "jsonl"}]}, "sources[0]: a jsonl source needs 'path'"),
        ({"sources": [{"name": "a", "type": "carrier-pigeon"}]}, "sources[0].type"),
        (
            {"sources": [{"name": "a", "type": "synthetic"}, {"name": "a", "type": "synthetic"}]},
            "source names must be unique",
        ),
    ],
)
def test_errors_name_the_bad_key(doc: dict[str, object], needle: str) -> None:
    with pytest.raises(ConfigError) as err:
        settings_from_dict(doc)
    assert needle in str(err.value)


def test_unreadable_and_invalid_toml_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[pipeline\nchunk_size = 3")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(bad)


def test_environment_names_and_redaction() -> None:
    env = Environment.from_env(
        {
            "DATABASE_URL": "postgresql://app:s3cret@db:5432/x",
            "OPENAI_API_KEY": "sk-live-abc",
            "CHIRPFLOW_HOME": "/tmp/cf",
        }
    )
    shown = env.redacted()
    assert "s3cret" not in str(shown) and "sk-live-abc" not in str(shown)
    assert shown["DATABASE_URL"] == "postgresql://app:****@db:5432/x"
    assert shown["REDIS_URL"] == "(in-process)"
    assert redact_url("redis://:pw@h:6379/0") == "redis://:****@h:6379/0"
