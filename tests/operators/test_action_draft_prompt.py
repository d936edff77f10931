import orjson

from chirpflow.operators.actions.draft_prompt import draft_messages, parse_drafts


def test_prompt_holds_persona_context_and_json_lines() -> None:
    msgs = draft_messages(['a "quoted" tweet', "second"], "Be kind.", (3, "We ship worldwide."))
    assert "Be kind." in msgs[0]["content"] and "context layer 3" in msgs[0]["content"]
    assert "We ship worldwide." in msgs[0]["content"]
    lines = [orjson.loads(line) for line in msgs[1]["content"].splitlines()]
    assert lines == [{"i": 0, "text": 'a "quoted" tweet'}, {"i": 1, "text": "second"}]


def test_parse_keeps_valid_entries_and_names_the_rest() -> None:
    content = orjson.dumps(
        {
            "drafts": [
                {"i": 0, "text": " ok "},
                {"i": 0, "text": "again"},
                {"i": 7, "text": "x"},
                {"i": 2, "text": ""},
            ]
        }
    ).decode()
    drafts, problems = parse_drafts(content, 3)
    assert drafts == {0: "ok"}
    assert problems == [
        "index 0 answered twice (first kept)",
        "unknown index 7",
        "index 2: empty text",
        "index 1: no draft",
        "index 2: no draft",
    ]
    assert parse_drafts("not json", 2) == ({}, ["answer is not JSON"])
