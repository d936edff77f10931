"""The offline memory scenario reports what judging "flat" needs (a small run)."""

from __future__ import annotations

from benchmarks.memory import _state_objects, offline_memory


def test_offline_memory_reports_rss_state_and_cache_at_each_mark() -> None:
    out = offline_memory(3000)
    marks = ["10%", "25%", "50%", "75%", "100%", "end"]
    assert out["tweets"] == 3000 and out["dedup_window"] == "7d"
    assert list(out["rss_at"]) == marks and list(out["dedup_state_at"]) == marks
    assert all(v > 0 for v in out["rss_at"].values())
    # every remembered id is in the id sets: 8 bytes in an array, more while in a tail
    assert 8 <= out["dedup_bytes_per_id"] <= 200
    entries = out["result_cache_entries_at"]
    counts = [entries[m] for m in marks]
    assert counts == sorted(counts) and 0 < counts[-1] <= out["analyzed"]
    # seen while the flow runs, although the GC policy freezes what existed before it
    assert counts[-2] > 0
    assert out["sampled_peak_rss_mb"] >= out["rss_at"]["end"]


class _LoadsOnClassLookup:
    """Like openai's ``LazyProxy``: asking for ``__class__`` loads what it stands for."""

    loads = 0

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        type(self).loads += 1
        return type(self)


def test_the_probe_does_not_load_lazy_proxies() -> None:
    """The probe's scan of every object once imported ~1,600 modules (42 MB) through
    openai's lazy proxies, and counted them in the run's final RSS."""
    proxy = _LoadsOnClassLookup()
    _state_objects()
    assert _LoadsOnClassLookup.loads == 0
    del proxy
