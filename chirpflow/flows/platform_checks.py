"""``chirpflow doctor`` for Reddit, Bluesky and Mastodon sources.

Their read APIs are free, so the check makes one real read of the source's
first watched item: it proves the credentials (a Reddit token, a Bluesky
login), that the host answers, and that the item is readable (a private
subreddit, a search the public AppView refuses).
"""

from __future__ import annotations

from collections.abc import Mapping

from chirpflow.connectors.providers.base import ProviderError
from chirpflow.errors import ConfigError
from chirpflow.flows.platform_sources import platform_provider, platform_watches
from chirpflow.settings import SourceSettings


def platform_check(src: SourceSettings, env: Mapping[str, str]) -> tuple[bool, str]:
    try:
        provider = platform_provider(src, env)
    except ConfigError as err:
        return False, str(err)
    watch = platform_watches(src)[0]
    try:
        page = provider.fetch(watch, None, None)
    except ProviderError as err:
        return False, f"{watch.label}: {err}"
    finally:
        provider.close()
    left = "" if page.remaining is None else f", {page.remaining} requests left in the window"
    return True, f"{watch.label}: {len(page.tweets)} posts readable{left}"
