"""connectors.sanitise on hand-built batches: what no store can hold is made storable, the rest untouched."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from syncd.connectors.payload import AnswerCheck
from syncd.connectors.sanitise import keep_payload_text, sanitise_batch
from syncd.model import (
    Batch,
    ItemKind,
    Link,
    LinkKind,
    Person,
    PullRequest,
    PullState,
    SourceType,
    Sprint,
    SprintState,
    StatusCategory,
    WorkItem,
)

T = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def item(key: str = "WID-1", **kw: object) -> WorkItem:
    fields: dict[str, object] = {"id": f"j:{key}", "source": "j", "source_type": SourceType.JIRA, "remote_id": key,
                                 "key": key, "project": "WID", "kind": ItemKind.STORY, "title": "Plain title",
                                 "status": "To Do", "status_category": StatusCategory.TODO, "created": T, "updated": T}
    return WorkItem(**{**fields, **kw})  # type: ignore[arg-type]


def test_a_clean_batch_is_left_alone_emoji_and_all() -> None:
    batch = Batch(items=[item(title="Ship it 😀 — über", labels=["naïve"], estimate=3.5,
                              raw={"fields": {"summary": "Ship it 😀", "points": 3.5, "nested": [1, {"a": None}]}})])
    before = batch.model_copy(deep=True)
    assert sanitise_batch(batch) == []
    assert batch.items[0].title == before.items[0].title and batch.items[0].raw == before.items[0].raw


def test_nul_lone_surrogate_and_infinity_are_replaced_or_dropped_and_named() -> None:
    batch = Batch(items=[item(title="a\x00b", labels=["x\ud800"], estimate=float("inf"),
                              raw={"fields": {"summary": "a\x00b", "customfield_10016": float("inf"), "k\x00": [float("nan")]}}),
                         item("WID-2")])
    assert sanitise_batch(batch) == [("WID-1", "estimate (non-finite number dropped), labels (text replaced), "
                                               "raw payload (non-finite number dropped, text replaced), title (text replaced)")]
    first = batch.items[0]
    assert (first.title, first.labels, first.estimate) == ("a\ufffdb", ["x\ufffd"], None)
    assert first.raw == {"fields": {"summary": "a\ufffdb", "customfield_10016": None, "k\ufffd": [None]}}
    assert batch.items[1].title == "Plain title"


def test_a_key_longer_than_the_column_is_not_a_link() -> None:
    long_key = "WID-" + "1" * 301
    pr = item("acme/widget#21", kind=ItemKind.PULL_REQUEST)
    batch = Batch(items=[pr], pulls=[PullRequest(item_id=pr.id, state=PullState.OPEN, linked_keys=[long_key, "WID-7"])],
                  links=[Link(from_id=pr.id, kind=LinkKind.IMPLEMENTS, to_key=long_key),
                         Link(from_id=pr.id, kind=LinkKind.IMPLEMENTS, to_key="WID-7")])
    lines = sanitise_batch(batch)
    assert [key for key, _ in lines] == ["acme/widget#21"]
    assert "over 255 characters" in lines[0][1]
    assert [lk.to_key for lk in batch.links] == ["WID-7"] and batch.pulls[0].linked_keys == ["WID-7"]


def test_infinity_deep_in_a_field_or_a_payload_is_found_though_orjson_would_write_it_as_null() -> None:
    # orjson writes inf and NaN as null without a word: the check finds them in the payload's pickle
    batch = Batch(items=[item(properties={"signoff": {"score": [1.5, float("-inf")]}}),
                         item("WID-2", raw={"fields": {"deep": [{"n": [float("nan")]}], "ok": 1e308}}),
                         item("WID-3", raw={"fields": {"ok": -2.5e-300, "big": 10**30}})])
    assert sanitise_batch(batch) == [("WID-1", "properties.signoff.score (non-finite number dropped)"),
                                     ("WID-2", "raw payload (non-finite number dropped)")]
    assert batch.items[0].properties == {"signoff": {"score": [1.5, None]}}
    assert batch.items[1].raw == {"fields": {"deep": [{"n": [None]}], "ok": 1e308}}
    assert batch.items[2].raw == {"fields": {"ok": -2.5e-300, "big": 10**30}}  # orjson refuses it; the walk keeps it


def test_the_batch_wide_check_still_names_only_the_records_that_need_it() -> None:
    # the whole batch is checked by one dump and one pickle first; a find there sends each record to its own
    # check, so clean records of other kinds are untouched and keep the payload text the store binds
    clean_raw = {"fields": {"summary": "fine", "points": 2.0}}
    batch = Batch(items=[item(raw=clean_raw), item("WID-2", raw={"fields": {"summary": "also fine"}})],
                  sprints=[Sprint(id="j:s1", source="j", remote_id="1", name="S1", state=SprintState.ACTIVE,
                                  raw={"goal": float("nan")}),
                           Sprint(id="j:s2", source="j", remote_id="2", name="S2", state=SprintState.CLOSED, raw={})],
                  people=[Person(id="j:ann", source="j", display_name="Ann\x00"),
                          Person(id="j:bob", source="j", display_name="Bob")])
    assert sanitise_batch(batch) == [("j:s1", "raw payload (non-finite number dropped)"),
                                     ("j:ann", "display_name (text replaced)")]
    assert batch.sprints[0].raw == {"goal": None} and batch.sprints[1].raw == {}
    assert [p.display_name for p in batch.people] == ["Ann\ufffd", "Bob"]
    # the clean items' payloads were encoded once, as compact JSON (worked by hand)
    assert batch.items[0].raw_json() == b'{"fields":{"summary":"fine","points":2.0}}'
    assert batch.items[1].raw_json() == b'{"fields":{"summary":"also fine"}}'
    assert batch.sprints[0].raw_json() is None  # cleaned: the store encodes the new payload itself


def test_non_finite_numbers_are_found_by_marshal_and_by_pickle_where_marshal_cannot_write_the_value() -> None:
    # marshal writes one float object met twice as a back-reference; the first is found, the item named once.
    # A datetime (a hand-built property) is no type marshal writes: the pickle is searched instead.
    inf = float("inf")
    batch = Batch(items=[item(raw={"a": [inf, inf], "b": {"c": inf}, "ok": 1e308}),
                         item("WID-2", properties={"when": T, "score": [-inf, 2.0]}),
                         item("WID-3", raw={"big": 2**70, "max": 1.7976931348623157e308, "tiny": 5e-324},
                              properties={"when": T, "score": 1.5})])
    assert sanitise_batch(batch) == [("WID-1", "raw payload (non-finite number dropped)"),
                                     ("WID-2", "properties.score (non-finite number dropped)")]
    assert batch.items[0].raw == {"a": [None, None], "b": {"c": None}, "ok": 1e308}
    assert batch.items[1].properties == {"when": T, "score": [None, 2.0]}
    assert batch.items[2].raw == {"big": 2**70, "max": 1.7976931348623157e308, "tiny": 5e-324}


def test_an_answer_is_strict_only_when_orjson_parses_it_and_it_escapes_no_nul() -> None:
    clean = AnswerCheck()
    assert clean.parse(b'{"summary": "Ship it \\ud83d\\ude00", "points": 1e308, "big": [1, 2.5]}') == {
        "summary": "Ship it 😀", "points": 1e308, "big": [1, 2.5]}
    assert clean.parse('{"a": "\\\\"}') == {"a": "\\"} and clean.parsed({"goal": "fine", "n": 3.5}) == {"goal": "fine", "n": 3.5}
    assert clean.strict
    for body in (b'{"title": "a\\u0000b"}', b'{"points": 1e309}', b'{"points": NaN}', b'{"body": "\\ud800 half"}'):
        check = AnswerCheck()
        check.parse(body)  # the stdlib reads what orjson refuses, as Python reads it
        assert not check.strict, body
    for value in ({"t": "a\x00b"}, {"p": float("inf")}, {"b": ["\udc00"]}):
        check = AnswerCheck()
        assert check.parsed(value) is value
        assert not check.strict, value
    check = AnswerCheck()
    with pytest.raises(json.JSONDecodeError):  # what the retry policy calls malformed JSON
        check.parse(b'{"cut": "mid-bo')
    assert not check.strict
    check.parse(b"{}")
    assert not check.strict  # never strict again


def test_a_batch_of_strict_answers_gets_its_payload_texts_and_its_keys_measured_only() -> None:
    long_key = "WID-" + "1" * 301
    pr = item("acme/widget#21", kind=ItemKind.PULL_REQUEST, raw={"title": "Fix", "n": 2.5})
    batch = Batch(items=[pr], pulls=[PullRequest(item_id=pr.id, state=PullState.OPEN, linked_keys=[long_key, "WID-7"],
                                                 raw={"number": 21})],
                  links=[Link(from_id=pr.id, kind=LinkKind.IMPLEMENTS, to_key=long_key),
                         Link(from_id=pr.id, kind=LinkKind.IMPLEMENTS, to_key="WID-7")])
    lines = sanitise_batch(batch, answers_strict=True)
    assert [key for key, _ in lines] == ["acme/widget#21"] and "over 255 characters" in lines[0][1]
    assert [lk.to_key for lk in batch.links] == ["WID-7"] and batch.pulls[0].linked_keys == ["WID-7"]
    assert batch.items[0].raw_json() == b'{"title":"Fix","n":2.5}' and batch.pulls[0].raw_json() == b'{"number":21}'
    # a payload orjson cannot encode sends the batch to the whole check, which keeps it as it is
    odd = Batch(items=[item(raw={"big": 2**70})])
    assert sanitise_batch(odd, answers_strict=True) == [] and odd.items[0].raw == {"big": 2**70}


def test_a_payload_text_kept_by_the_connector_is_bound_only_while_it_is_that_of_the_payload() -> None:
    # the connectors encode each payload right after mapping it (`keep_payload_text`); the check decides later
    clean, nul, inf = item(raw={"title": "fine", "n": 2.5}), item("WID-2", raw={"title": "a\x00b"}), \
        item("WID-3", raw={"p": float("inf")})
    for record in (clean, nul, inf):
        assert keep_payload_text(record)
    assert nul.raw_json() == b'{"title":"a\\u0000b"}' and inf.raw_json() == b'{"p":null}'  # not checked yet
    big = item("WID-4", raw={"big": 2**70})
    assert not keep_payload_text(big) and big.raw_json() is None  # what only the stdlib encodes: left to the store
    batch = Batch(items=[clean, nul, inf, big])
    assert sanitise_batch(batch) == [("WID-2", "raw payload (text replaced)"),
                                     ("WID-3", "raw payload (non-finite number dropped)")]
    assert clean.raw_json() == b'{"title":"fine","n":2.5}'
    # the cleaned payloads are new objects: their early texts are no longer theirs, the store encodes them
    assert nul.raw == {"title": "a\ufffdb"} and nul.raw_json() is None
    assert inf.raw == {"p": None} and inf.raw_json() is None
    assert big.raw == {"big": 2**70} and big.raw_json() is None
    # a strict batch keeps the texts encoded early (not encoded again) and encodes the rest
    early, late = item(raw={"a": 1}), item("WID-5", raw={"b": 2})
    keep_payload_text(early)
    text = early.raw_json()
    assert sanitise_batch(Batch(items=[early, late]), answers_strict=True) == []
    assert early.raw_json() is text and late.raw_json() == b'{"b":2}'
