"""Drafts cached in Redis: a second process drafting the same mention makes no call."""

from __future__ import annotations

from chirpflow.action_settings import DraftingSettings
from chirpflow.connectors.redis.draft_cache import RedisDraftCache
from chirpflow.operators.actions.drafter import Drafter
from tests.fakes.draft_llm_server import fake_draft_llm


def test_two_processes_draft_the_same_mention_once(redis_url: str) -> None:
    with fake_draft_llm() as llm:
        drafting = DraftingSettings(base_url=llm.base_url, model="llama-3")
        env = {"OPENAI_API_KEY": llm.key}
        one = Drafter(drafting, env=env, cache=RedisDraftCache(redis_url))
        two = Drafter(drafting, env=env, cache=RedisDraftCache(redis_url))
        try:
            a = one.draft(["@acme where is my parcel?"], "friendly", (3, "We ship daily."))
            b = two.draft(["@acme  where is my parcel?"], "friendly", (3, "We ship daily."))
            c = two.draft(["@acme where is my parcel?"], "friendly", (4, "We ship daily."))
        finally:
            one.close()
            two.close()
        assert a.texts == b.texts and a.texts[0]
        assert (a.requests, b.requests, c.requests) == (1, 0, 1)  # a new context drafts again
        assert len(llm.requests) == 2
