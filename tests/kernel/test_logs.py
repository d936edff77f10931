"""Log masking: secret variables the configuration names are masked after setup too."""

from __future__ import annotations

import io
import logging

import pytest

from chirpflow.logs import RedactingFilter, add_secret_vars, scrub, secret_values

HOOK = "https://discord.example/api/webhooks/123/SECRET-hook-token-77"


def test_config_named_variables_join_logging_already_set_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPS_HOOK_FOR_LOG_TEST", HOOK)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter(secret_values()))  # set up before the config is read
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        logging.getLogger("t").warning("before: %s", HOOK)
        add_secret_vars(["OPS_HOOK_FOR_LOG_TEST"])
        logging.getLogger("t").warning("after: %s and token %s", HOOK, HOOK.rsplit("/", 1)[1])
    finally:
        root.removeHandler(handler)
    before, after = stream.getvalue().splitlines()
    assert HOOK in before  # a custom name is not a secret by its name alone
    assert after == "after: **** and token ****"
    assert scrub(f"POST {HOOK}?wait=true") == "POST ****?wait=true"
