"""syncd.model `Record.trusted`: a record built without validation equals the validated one, field for field."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from syncd.model import (
    ItemKind,
    Link,
    LinkKind,
    Person,
    PullRequest,
    PullState,
    Review,
    ReviewState,
    SourceType,
    Sprint,
    SprintState,
    StatusCategory,
    Transition,
    TransitionField,
    WorkItem,
)

PST = timezone(timedelta(hours=-8))


def _same(a: Any, b: Any) -> None:
    assert a == b and type(a) is type(b)
    assert list(a.__dict__) == list(b.__dict__)  # the order validation writes (the fields' order)
    assert a.model_fields_set == b.model_fields_set
    assert a.__pydantic_private__ == b.__pydantic_private__
    assert a.model_dump_json() == b.model_dump_json()


def test_a_trusted_record_equals_the_validated_one() -> None:
    item: dict[str, Any] = dict(
        id="j:1", source="j", source_type="jira", remote_id="1", key="WID-1", project="WID", kind=ItemKind.STORY,
        title="Plain", status="To Do", status_category="todo", labels=["a"], created=datetime(2026, 11, 2, 1, tzinfo=PST),
        updated=datetime(2026, 11, 2, 9, tzinfo=UTC), due=date(2026, 12, 1), estimate=3.0, raw={"id": "1"})
    built = WorkItem.trusted(**item)
    _same(built, WorkItem(**item))
    # what validation changes is changed: the enum values' members, the time in UTC (01:00 -08:00 is 09:00 UTC)
    assert built.source_type is SourceType.JIRA and built.status_category is StatusCategory.TODO
    assert built.created == datetime(2026, 11, 2, 9, tzinfo=UTC) and built.created.tzinfo is UTC
    assert built.components == [] and built.properties == {} and built.resolved is None
    assert WorkItem.trusted(**item).components is not built.components  # a default list of its own
    others: list[tuple[type[Any], dict[str, Any]]] = [
        (Transition, dict(item_id="j:1", change_id="5", field=TransitionField.STATUS, to_string="Done",
                          at=datetime(2026, 11, 3, tzinfo=PST))),
        (Person, dict(id="j:ann", source="j", display_name="Ann")),
        (Link, dict(from_id="j:1", kind="blocks", to_key="OPS-1", to_category=StatusCategory.DONE)),
        (Sprint, dict(id="j:s1", source="j", remote_id="1", name="S1", state=SprintState.ACTIVE, start=None,
                      end=datetime(2026, 11, 4, tzinfo=PST), raw={"id": 1})),
        (PullRequest, dict(item_id="gh:9", state=PullState.MERGED, additions=3, linked_keys=["WID-1"],
                           reviews=[Review.trusted(author_id="gh:ann", state=ReviewState.APPROVED)])),
    ]
    for model, values in others:
        _same(model.trusted(**values), model(**values))
    assert Link.trusted(from_id="a", kind="blocks", to_key="B-1").kind is LinkKind.BLOCKS


def test_a_trusted_record_refuses_what_validation_refuses_by_shape() -> None:
    with pytest.raises(TypeError, match="missing"):
        Person.trusted(id="j:ann", source="j")
    with pytest.raises(TypeError, match="unknown"):
        Person.trusted(id="j:ann", source="j", display_name="Ann", nickname="A")
    with pytest.raises(ValueError, match="timezone-aware"):
        Transition.trusted(item_id="j:1", change_id="5", field=TransitionField.STATUS, at=datetime(2026, 11, 3))
    with pytest.raises(ValueError):
        Link.trusted(from_id="a", kind="not a kind", to_key="B-1")


def test_a_trusted_raw_record_keeps_its_payload_text_apart_from_another() -> None:
    a = Sprint.trusted(id="j:s1", source="j", remote_id="1", name="S1", state=SprintState.ACTIVE, raw={"id": 1})
    b = Sprint.trusted(id="j:s2", source="j", remote_id="2", name="S2", state=SprintState.ACTIVE, raw={"id": 2})
    a.keep_raw_json('{"id":1}')
    assert a.raw_json() == '{"id":1}' and b.raw_json() is None
