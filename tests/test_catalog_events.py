"""The whole catalog (the seed's events and Codex's newer ones): each event's shape against
its declaration in `catalog.EVENTS`, over every OTLP transport to a real receiver and through
rotel; the opt-in events; the originator and the resource as Codex sends them."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from codex_otel import OtelConfig, OtelEventManager, OtelProvider
from codex_otel.catalog import COMMON_ATTRIBUTES, EVENTS, RESPONSE_MAX_BYTES, TRUNCATED_MARKER
from codex_otel.testing import OtlpReceiver
from tests.conftest import METADATA, Memory, captured, emit_catalog, expected_catalog, normalise
from tests.newer_events import emit_newer, expected_newer
from tests.rotel import Rotel
from tests.transports import TRANSPORTS, exporter_table, receiver_port

OPT_IN = {"log_agent_responses": True, "log_guardian_assessments": True}
_KINDS: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "text": (str,),
    "int": (int,),
    "bool": (bool,),
    "flag": (str,),
}


def session(manager: OtelEventManager) -> None:
    """Every event of the catalog: the seed's, then the newer ones."""
    emit_catalog(manager)
    emit_newer(manager)


def expected_session() -> list[tuple[str, dict[str, Any]]]:
    return expected_catalog() + expected_newer()


def test_the_session_emits_every_event_of_the_catalog() -> None:
    assert {name for name, _ in expected_session()} == set(EVENTS)


def test_every_newer_event_has_its_whole_shape(memory: Memory) -> None:
    emit_newer(OtelEventManager(memory[0], **METADATA, **OPT_IN))
    assert [(r["name"], r["attributes"]) for r in captured(*memory)] == expected_newer()


def test_every_event_is_as_its_declaration_says(memory: Memory) -> None:
    """Field for field against `catalog.EVENTS`: only declared keys, every required one, each
    value of its declared kind."""
    session(OtelEventManager(memory[0], **METADATA, **OPT_IN))
    records = captured(*memory)
    assert len(records) == len(expected_session())
    for record in records:
        spec = EVENTS[record["name"]]
        attributes = record["attributes"]
        fields = {key: value for key, value in attributes.items() if key not in COMMON_ATTRIBUTES}
        assert set(fields) <= set(spec.keys), record["name"]
        declared = {field.key: field for field in spec.fields}
        for key, field in declared.items():
            if key in fields:
                value = fields[key]
                if key == "duration_ms" and value == "<ms>":  # a real call's, normalised
                    continue
                assert isinstance(value, _KINDS[field.kind]), (record["name"], key, value)
                if field.kind == "int":
                    assert not isinstance(value, bool), (record["name"], key)
                if field.kind == "flag":
                    assert value in ("true", "false"), (record["name"], key)
        # An event's required fields are there (a failure of the seed's sse_event has no
        # kind or duration by design; the completion's counts are only on a completion).
        if record["name"] not in ("codex.sse_event", "codex.tool_result"):
            missing = [k for k, f in declared.items() if not f.optional and k not in fields]
            assert missing == [], (record["name"], missing)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_whole_catalog_arrives_over_each_transport(
    receiver: OtlpReceiver, transport: str
) -> None:
    table = exporter_table(transport, receiver_port(receiver, transport))
    config = OtelConfig.from_mapping({"exporter": table, **OPT_IN})
    with OtelProvider.from_config(config) as provider:
        session(OtelEventManager(provider, **METADATA))
    expected = expected_session()
    logs = receiver.wait_for(len(expected))
    assert [(log.event_name, normalise(log.attributes)) for log in logs] == expected
    assert {(log.transport, log.resource["host.name"]) for log in logs} == {
        ("grpc" if transport == "grpc" else transport, socket.gethostname())
    }


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_the_whole_catalog_arrives_through_rotel(
    receiver: OtlpReceiver, tmp_path: Any, transport: str
) -> None:
    with Rotel(receiver.grpc_endpoint, tmp_path) as rotel:
        config = OtelConfig.from_mapping({"exporter": rotel.exporter_table(transport), **OPT_IN})
        with OtelProvider.from_config(config) as provider:
            session(OtelEventManager(provider, **METADATA))
        expected = expected_session()
        logs = receiver.wait_for(len(expected))
        assert [(log.event_name, normalise(log.attributes)) for log in logs] == expected, (
            rotel.output()
        )


def test_the_content_events_are_off_unless_switched_on(memory: Memory) -> None:
    emit_newer(OtelEventManager(memory[0], **METADATA))
    names = [record["name"] for record in captured(*memory)]
    assert names == [
        name
        for name, _ in expected_newer()
        if name not in ("codex.agent_response", "codex.guardian_assessment")
    ]


def test_the_switches_of_the_otel_table_turn_the_content_events_on(
    receiver: OtlpReceiver,
) -> None:
    table = exporter_table("http/protobuf", receiver.http_port)
    config = OtelConfig.from_mapping({"exporter": table, "log_agent_responses": True})
    with OtelProvider.from_config(config) as provider:
        emit_newer(OtelEventManager(provider, **METADATA))
    names = [log.event_name for log in receiver.wait_for(9)]
    assert "codex.agent_response" in names and "codex.guardian_assessment" not in names


def test_a_final_answer_is_recorded_once_per_item_in_a_turn_and_capped(memory: Memory) -> None:
    manager = OtelEventManager(memory[0], **METADATA, log_agent_responses=True)
    long = "é" * RESPONSE_MAX_BYTES  # 2 bytes each: twice the cap
    with manager.turn("turn-1"):
        manager.agent_response("msg-1", "Done.")
        manager.agent_response("msg-1", "Done.")  # the same item completed again
        manager.agent_response("msg-2", long)
    (first, second) = [r["attributes"] for r in captured(*memory)]
    assert (first["item.id"], first["turn.id"], first["agent.type"]) == ("msg-1", "turn-1", "main")
    assert {key: second[key] for key in ("response_length", "response_truncated")} == {
        "response_length": 2 * RESPONSE_MAX_BYTES,
        "response_truncated": True,
    }
    assert second["response"] == "é" * (RESPONSE_MAX_BYTES // 2) + TRUNCATED_MARKER


def test_the_originator_and_the_email_are_stamped_and_the_originator_is_the_service(
    receiver: OtlpReceiver,
) -> None:
    table = exporter_table("http/protobuf", receiver.http_port)
    config = OtelConfig.from_mapping({"exporter": table})
    with OtelProvider.from_config(config, originator="codex_exec") as provider:
        metadata = {k: v for k, v in METADATA.items() if k != "originator"}
        manager = OtelEventManager(provider, **metadata, account_email="dev@example.com")
        manager.turn_ttft(0.1)
    (log,) = receiver.wait_for(1)
    assert (log.attributes["originator"], log.attributes["user.email"]) == (
        "codex_exec",
        "dev@example.com",
    )
    assert log.resource["service.name"] == "codex_exec"
