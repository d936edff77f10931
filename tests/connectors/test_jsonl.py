from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from chirpflow.connectors.sources.jsonl import JsonlReader


def _all(reader: JsonlReader, offset: int = 0, size: int = 3) -> tuple[list[bytes], int]:
    out: list[bytes] = []
    while True:
        lines, offset = reader.read_batch(offset, size)
        if not lines:
            return out, offset
        out.extend(line for _, line in lines)


def test_blank_lines_crlf_and_resume(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl"
    p.write_bytes(b'{"a":1}\r\n\n  \n{"b":2}\n{"c":3}')
    r = JsonlReader(p)
    first, off = r.read_batch(0, 1)
    assert [line for _, line in first] == [b'{"a":1}']
    rest, end = _all(r, off)
    assert rest == [b'{"b":2}', b'{"c":3}']
    assert r.at_end(end)


def test_following_waits_for_the_end_of_a_partial_line(tmp_path: Path) -> None:
    p = tmp_path / "f.jsonl"
    p.write_bytes(b'{"a":1}\n{"b":')
    r = JsonlReader(p, follow=True)
    got, off = _all(r)
    assert got == [b'{"a":1}']
    with p.open("ab") as f:
        f.write(b"2}\n")
    more, _ = _all(r, off)
    assert more == [b'{"b":2}']


def test_oversized_line_is_cut_and_the_next_line_still_read(tmp_path: Path) -> None:
    p = tmp_path / "big.jsonl"
    p.write_bytes(b"x" * 300_000 + b"\n" + b'{"ok":1}\n')
    got, _ = _all(JsonlReader(p, max_line_bytes=1000))
    assert len(got[0]) == 1001 and got[1] == b'{"ok":1}'


def test_invalid_utf8_passes_through_as_bytes(tmp_path: Path) -> None:
    p = tmp_path / "bad.jsonl"
    p.write_bytes(b"\xff\xfe\n")
    assert _all(JsonlReader(p))[0] == [b"\xff\xfe"]


_line = st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"").replace(b"\r", b""))


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(_line, max_size=30), size=st.integers(1, 7), data=st.data())
def test_batches_yield_every_non_blank_line_and_resume_anywhere(
    lines: list[bytes], size: int, data: st.DataObject
) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "x.jsonl"
        p.write_bytes(b"".join(line + b"\n" for line in lines))
        reader = JsonlReader(p)
        expected = [line for line in lines if line.strip()]
        offsets = [0]
        got: list[bytes] = []
        offset = 0
        while True:
            batch, offset = reader.read_batch(offset, size)
            if not batch:
                break
            got.extend(line for _, line in batch)
            offsets.append(offset)
        assert got == expected
        k = data.draw(st.integers(0, len(offsets) - 1))
        rest, _ = _all(reader, offsets[k], size)
        assert rest == expected[len(expected) - len(rest) :]
        assert len(rest) == len(expected) - min(len(expected), k * size)


def test_origins_number_records_from_one_and_resume_without_gaps(tmp_path: Path) -> None:
    from chirpflow.connectors.sources.jsonl_reader import JsonlFileReader

    p = tmp_path / "in.jsonl"
    p.write_bytes(b'{"a":1}\r\n{"b":2}\n{"c":\n{"d":4}\n')
    reader = JsonlFileReader("archive", p)
    first = reader.read(reader.start_position(), 2)
    rest = reader.read(first.position, 10)
    origins = [r.origin for r in first.records + rest.records]
    assert origins == [f"archive:in.jsonl:{n}" for n in (1, 2, 3, 4)]
    assert rest.records[0].payload == b'{"c":'  # line 3 in an editor
