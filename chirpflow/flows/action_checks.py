"""``chirpflow doctor`` for ``[actions]``: the X posting account, the approval bot, moderation.

Each check makes one harmless call with the configured credentials: a
signed ``GET /2/users/me`` on X (nothing is posted), Telegram's ``getMe``,
and one moderation request for a neutral text. A refused credential fails
naming the variable that holds it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

from chirpflow.action_settings import ActionSettings
from chirpflow.connectors.actions.moderation import OpenAIModeration
from chirpflow.connectors.actions.x_poster import OAUTH1_ENV, OAUTH2_ENV, ReadBackError, XPoster
from chirpflow.errors import ChirpflowError, ConfigError, ServiceError

Check = Callable[[], tuple[bool, str]]


def require_x_account(poster: XPoster, settings: ActionSettings) -> str:
    """``@username`` the credentials post as; else ``ConfigError`` (refused, exit 2) or
    ``ServiceError`` (X did not answer, exit 3), one line naming the variables."""
    names = OAUTH2_ENV if settings.posting.auth == "oauth2" else ", ".join(OAUTH1_ENV)
    try:
        user_id, username = poster.account()
    except ReadBackError as err:
        if "HTTP 401" in str(err) or "HTTP 403" in str(err):
            raise ConfigError(f"X refused the credentials in {names} ({err})") from None
        raise ServiceError(f"X did not answer at {settings.posting.base_url} ({err})") from None
    return f"@{username} (id {user_id})"


def x_account(settings: ActionSettings, env: Mapping[str, str]) -> tuple[bool, str]:
    try:
        poster = XPoster(settings.posting, env=dict(env))
    except ConfigError as err:
        return False, str(err)
    try:
        return True, f"posting as {require_x_account(poster, settings)}"
    except ChirpflowError as err:
        return False, str(err)
    finally:
        poster.close()


def moderation(settings: ActionSettings, env: Mapping[str, str]) -> tuple[bool, str]:
    try:
        check = OpenAIModeration(settings.gate.moderation_base_url, env=dict(env))
    except ConfigError as err:
        return False, str(err)
    try:
        problem = check("Thanks for reaching out, we will look into it.")
    finally:
        check.close()
    if problem and problem.startswith("moderation unavailable"):
        hint = " (check OPENAI_API_KEY)" if "401" in problem else ""
        return False, problem + hint
    return True, "moderation answers"


def action_checks(
    settings: ActionSettings,
    env: Mapping[str, str],
    telegram: Callable[[str, str], tuple[bool, str]],
) -> dict[str, Check]:
    """The services ``[actions]`` uses, when it is enabled (nothing otherwise)."""
    if not settings.enabled:
        return {}
    checks: dict[str, Check] = {"actions X posting": partial(x_account, settings, env)}
    var = settings.approval.bot_token_env
    token = env.get(var)
    if token:
        checks["actions approval bot"] = partial(telegram, settings.approval.base_url, token)
    else:
        checks["actions approval bot"] = lambda: (False, f"{var} is not set")
    if settings.gate.moderation:
        checks["actions moderation"] = partial(moderation, settings, env)
    return checks
