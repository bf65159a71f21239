#!/usr/bin/env sh
# rotel (a Rust OpenTelemetry collector; `pip install rotel` ships its binary) doing what
# otelcol.yaml does: OTLP in over gRPC (4317) and HTTP (4318) for events (logs), metrics and
# traces, batched, forwarded to your backend over OTLP/HTTP with a bearer token.
#
#   OTEL_BACKEND_ENDPOINT=https://otel.example.com OTEL_BACKEND_TOKEN=... sh examples/collector/rotel.sh
#
# Send it metrics over protobuf or gRPC, not OTLP/JSON: rotel's JSON decoding drops 64-bit
# integers written as strings, as the OTLP/JSON mapping writes them (counter values,
# histogram counts). config/otel-http.toml, config/otel-grpc.toml and
# config/otel-metrics.toml all use protobuf.
#
# rotel is looked up in the project's environment (.venv, as `make` and uv make it), not in
# whatever python3 comes first on PATH; set PYTHON to use another interpreter.
set -eu
HERE="$(cd "$(dirname "$0")" && pwd)"
PYTHON="${PYTHON:-$HERE/../../.venv/bin/python}"
if [ ! -x "$PYTHON" ]; then
    echo "rotel.sh: no Python at $PYTHON: run 'make' (or uv sync) first, or set PYTHON" >&2
    exit 1
fi
ROTEL_AGENT="$("$PYTHON" -c 'import pathlib, rotel; print(pathlib.Path(rotel.__file__).parent / "rotel-agent")')"
exec "$ROTEL_AGENT" start \
    --otlp-grpc-endpoint 0.0.0.0:4317 \
    --otlp-http-endpoint 0.0.0.0:4318 \
    --batch-timeout 1s \
    --batch-max-size 1024 \
    --exporter otlp \
    --otlp-exporter-endpoint "${OTEL_BACKEND_ENDPOINT}" \
    --otlp-exporter-protocol http \
    --otlp-exporter-custom-headers "authorization=Bearer ${OTEL_BACKEND_TOKEN}" \
    --debug-log logs --debug-log metrics --debug-log traces
