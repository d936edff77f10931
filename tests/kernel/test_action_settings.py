from pathlib import Path

import pytest

from chirpflow.errors import ConfigError
from chirpflow.settings import load_settings


def _load(tmp_path: Path, text: str) -> None:
    path = tmp_path / "c.toml"
    path.write_text(text)
    load_settings(path)


def test_actions_are_off_by_default_and_example_values_load(tmp_path: Path) -> None:
    assert load_settings(None).actions.enabled is False
    _load(
        tmp_path,
        '[actions]\nenabled = true\nhandle = "acme"\n[actions.caps]\nquiet_hours = "22:00-07:00"\n'
        "[actions.approval]\nadmins = [1]\nauto_approve_below = 10\n",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[actions]\nenabled = true\n", "actions: handle .the watched account"),
        ('[actions.caps]\nquiet_hours = "10pm-7am"\n', "quiet_hours must look like 22:00-07:00"),
        ("[actions.approval]\nauto_approve_below = 150\n", "auto_approve_below"),
        ("[actions.gate]\nmax_lenght = 3\n", "unknown setting"),
    ],
)
def test_bad_action_settings_are_named(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _load(tmp_path, text)
