"""Exporter none is free: starting without an exporter imports nothing it does not use."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

import codex_otel
from codex_otel import OtelProvider

START_WITH_EXPORTER_NONE = """
import json, sys
import codex_otel
provider = codex_otel.OtelProvider.from_config(codex_otel.OtelConfig())
manager = codex_otel.OtelEventManager(provider, conversation_id="c", model="m", slug="s")
with manager.turn("turn-1"):
    manager.log_request(1, lambda: None)
    manager.sse_event("response.output_text.delta", 0.012)
provider.shutdown()
lazy = ("structlog", "grpc", "requests", "opentelemetry.exporter", "importlib.metadata", "tomllib",
        "opentelemetry.sdk.trace", "codex_otel._traces")
print(json.dumps(sorted({name for name in sys.modules for prefix in lazy if name == prefix
                         or name.startswith(prefix + ".")})))
"""


def test_start_with_exporter_none_imports_no_structlog_exporter_tracing_sdk_or_metadata() -> None:
    result = subprocess.run(
        [sys.executable, "-c", START_WITH_EXPORTER_NONE],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(result.stdout) == []


HTTP_LIBRARIES_LOADED = """
import json, sys
import codex_otel
from codex_otel import instrument
provider = codex_otel.OtelProvider(None)
manager = codex_otel.OtelEventManager(provider, conversation_id="c", model="m", slug="s")
list(instrument.instrument_sse(manager, []))
if sys.argv[1] != "-":
    getattr(instrument, sys.argv[1])(manager)
libraries = ("httpx", "httpx2", "httpx_sse", "openai", "anthropic")
print(json.dumps(sorted(name for name in libraries if name in sys.modules)))
"""


@pytest.mark.parametrize(
    ("used", "loaded"),
    [
        ("-", []),
        ("InstrumentedTransport", ["httpx"]),
        ("AsyncInstrumentedTransport", ["httpx"]),
        ("Httpx2InstrumentedTransport", ["httpx2"]),
        ("AsyncHttpx2InstrumentedTransport", ["httpx2"]),
    ],
)
def test_an_http_library_is_imported_only_when_its_transport_is_used(
    used: str, loaded: list[str]
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", HTTP_LIBRARIES_LOADED, used],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(result.stdout) == loaded


def test_instrument_names_only_what_it_has() -> None:
    from codex_otel import instrument

    with pytest.raises(AttributeError, match="has no attribute 'NoSuchTransport'"):
        _ = instrument.NoSuchTransport  # type: ignore[attr-defined]


def test_resource_without_exporter_is_built_on_demand_with_every_attribute() -> None:
    provider = OtelProvider(None, environment="staging")
    resource = dict(provider.resource.attributes)
    assert isinstance(resource.pop("service.instance.id"), str)
    assert resource == {
        "service.name": "codex-cli",
        "service.version": metadata.version("codex-otel"),
        "env": "staging",
        "telemetry.sdk.language": "python",
        "telemetry.sdk.name": "opentelemetry",
        "telemetry.sdk.version": metadata.version("opentelemetry-sdk"),
    }
    assert provider.resource is provider.resource  # built once


def test_version_is_the_installed_distributions_and_other_names_still_fail() -> None:
    assert codex_otel.__version__ == metadata.version("codex-otel")
    with pytest.raises(AttributeError, match="has no attribute 'no_such_name'"):
        _ = codex_otel.no_such_name  # type: ignore[attr-defined]


EVENTS_WITHOUT_TRACES = """
import json, sys
import codex_otel
config = codex_otel.OtelConfig.from_mapping(
    {"exporter": {"otlp-http": {"endpoint": "http://127.0.0.1:1/v1/logs"}},
     "shutdown_timeout": 0.1})
provider = codex_otel.OtelProvider.from_config(config)
manager = codex_otel.OtelEventManager(provider, conversation_id="c", model="m", slug="s")
with manager.turn("turn-1"):
    manager.log_request(1, lambda: None)
print(json.dumps(sorted(name for name in sys.modules if name.startswith("codex_otel._traces"))))
"""


def test_events_without_a_trace_exporter_never_load_the_traces_pipeline() -> None:
    # (The OTLP exporters themselves import the tracing SDK for their span encoders.)
    result = subprocess.run(
        [sys.executable, "-c", EVENTS_WITHOUT_TRACES],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(result.stdout) == []


VIEW_A_FILE = """
import json, sys
from pathlib import Path
from codex_otel.cli._view_decode import read_line
from codex_otel.cli._view_model import ViewStore
store = ViewStore()
for line in Path(sys.argv[1]).read_bytes().splitlines():
    read_line(line, store)
assert store.take().header["counts"]["events"] == 1
lazy = ("google.protobuf", "grpc", "opentelemetry.proto", "codex_otel.testing._receiver")
print(json.dumps(sorted({prefix for name in sys.modules for prefix in lazy if name == prefix
                         or name.startswith(prefix + ".")})))
"""


def test_viewing_a_file_of_events_imports_no_protobuf_nor_receiver(tmp_path: Path) -> None:
    # A third of the viewer's start went to importing them (only a metrics line needs them).
    path = tmp_path / "session.jsonl"
    config = codex_otel.OtelConfig.from_mapping({"exporter": {"otlp-file": {"path": str(path)}}})
    with OtelProvider.from_config(config) as provider:
        manager = codex_otel.OtelEventManager(provider, conversation_id="c", model="m", slug="s")
        manager.user_prompt(["hello"])
    result = subprocess.run(
        [sys.executable, "-c", VIEW_A_FILE, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(result.stdout) == []
