"""Readers of the other platforms' sources (``reddit``, ``bluesky``, ``mastodon``).

Each watched item is one partition polled by a :class:`PollingReader` whose
snapshot position is the newest post emitted (in the platform's own order)
and the next sequence number, so a restart neither skips nor repeats.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from chirpflow.connectors.providers import bluesky, mastodon, reddit
from chirpflow.connectors.providers.base import Pricing, Provider, Watch, WatchKind
from chirpflow.connectors.sources import jetstream
from chirpflow.connectors.sources.jetstream import JetstreamReader
from chirpflow.connectors.sources.mastodon_stream import MastodonStreamReader
from chirpflow.connectors.sources.reader import RecordReader
from chirpflow.errors import ConfigError
from chirpflow.flows.polled_readers import polled_readers
from chirpflow.settings import SourceSettings

if TYPE_CHECKING:
    from chirpflow.flows.build import SourceHooks

ORDER: dict[str, Callable[[Any], int]] = {
    "reddit": reddit.order_key,
    "bluesky": bluesky.order_key,
    "mastodon": mastodon.order_key,
}


def platform_watches(src: SourceSettings) -> list[Watch]:
    """What a source of another platform watches, one partition each."""
    if src.type == "reddit":
        subs = [s.removeprefix("r/").removeprefix("/r/") for s in src.subreddits]
        out = [Watch(WatchKind.TIMELINE, f"r/{s}") for s in subs]
        if src.comments:
            out += [Watch(WatchKind.TIMELINE, f"r/{s}/comments") for s in subs]
        out += [
            Watch(WatchKind.TIMELINE, f"u/{u.removeprefix('u/').removeprefix('/u/')}")
            for u in src.timelines
        ]
    elif src.type == "mastodon":
        out = [Watch(WatchKind.TIMELINE, f"#{t.lstrip('#')}") for t in src.hashtags]
        out += [Watch(WatchKind.TIMELINE, f"@{a.lstrip('@')}") for a in src.timelines]
    else:
        out = [Watch(WatchKind.TIMELINE, h.lstrip("@")) for h in src.timelines]
    return out + [Watch(WatchKind.SEARCH, q) for q in src.searches]


def platform_provider(src: SourceSettings, env: Mapping[str, str]) -> Provider:
    """The provider of ``src``; missing credentials are one ConfigError line."""
    pricing = Pricing(
        per_request=src.price_per_request or 0.0, per_tweet=src.price_per_tweet or 0.0
    )
    what = f"sources[{src.name}]"
    if src.type == "reddit":
        missing = [v for v in reddit.ENV[:2] if not env.get(v)]
        if missing:
            raise ConfigError(
                f"{what} (type reddit) needs {' and '.join(missing)} in the environment"
            )
        if bool(env.get("REDDIT_USERNAME")) != bool(env.get("REDDIT_PASSWORD")):
            raise ConfigError(
                f"{what} (type reddit): set both REDDIT_USERNAME and REDDIT_PASSWORD, or neither"
            )
        return reddit.RedditProvider(
            env,
            src.base_url or reddit.BASE_URL,
            src.auth_url or reddit.AUTH_URL,
            pricing,
            agent=src.user_agent,
        )
    if src.type == "bluesky":
        if bool(env.get("BLUESKY_HANDLE")) != bool(env.get("BLUESKY_APP_PASSWORD")):
            raise ConfigError(
                f"{what} (type bluesky): set both BLUESKY_HANDLE and BLUESKY_APP_PASSWORD,"
                " or neither"
            )
        return bluesky.BlueskyProvider(
            env, src.base_url or bluesky.BASE_URL, src.auth_url or bluesky.AUTH_URL, pricing
        )
    assert src.base_url is not None  # checked by the settings
    return mastodon.MastodonProvider(src.base_url, env, pricing)


def platform_readers(
    src: SourceSettings, env: Mapping[str, str], hooks: SourceHooks
) -> list[RecordReader]:
    streams: list[RecordReader] = []
    if src.stream and src.type == "mastodon":  # one SSE stream per hashtag, the rest polled
        assert src.base_url is not None
        streams = [
            MastodonStreamReader(
                src.name, src.base_url, tag, env, on_fatal=hooks.on_fatal, on_usage=hooks.on_usage
            )
            for tag in src.hashtags
        ]
        src = src.model_copy(update={"hashtags": [], "stream": False})
        if not (src.timelines or src.searches):
            return streams
    if src.stream:  # bluesky Jetstream: one partition, keywords and accounts filtered
        return [
            JetstreamReader(
                src.name,
                src.searches,
                [h.lstrip("@") for h in src.timelines],
                src.stream_url or jetstream.STREAM_URL,
                src.base_url or bluesky.BASE_URL,
                on_fatal=hooks.on_fatal,
                on_usage=hooks.on_usage,
            )
        ]
    polled = polled_readers(
        src,
        platform_watches(src),
        lambda: platform_provider(src, env),
        hooks,
        platform=src.type,
        order_key=ORDER[src.type],
    )
    return streams + polled
