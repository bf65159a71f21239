"""The `codex-otel` command line: demo, receive, config check.

Errors a user can cause (a bad config, a busy port, an unreachable endpoint) are one
line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from .._config_load import default_config_path, load_config
from .._errors import EXIT_USAGE, CliError, ConfigError
from .._version import package_version

__all__ = ["main"]

EXIT_OK = 0
EXIT_FAILED = 1  # the thing asked for did not happen (export not accepted, events lost)
# EXIT_USAGE (2, from _errors): bad input, a broken config, a busy port.


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number from 0 to 65535, got {text!r}")
    return port


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="codex-otel",
        description="OpenTelemetry events for AI coding agents: try them, view them, check setup.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    demo = commands.add_parser(
        "demo",
        help="run a scripted agent session through the real pipeline and show what arrived",
        description=(
            "Start an OTLP receiver on 127.0.0.1, run a short scripted agent session "
            "(conversation start, prompt, a streamed model response, tool decision and calls) "
            "through the real pipeline and helpers, and print every event that arrived."
        ),
    )
    demo.add_argument(
        "--protocol",
        choices=("binary", "json", "grpc"),
        default="binary",
        help="OTLP/HTTP protobuf (default), OTLP/HTTP JSON, or OTLP/gRPC",
    )
    demo.add_argument(
        "--config",
        type=Path,
        metavar="PATH",
        help="send the session to the exporter of this [otel] table (your collector) instead",
    )

    receive = commands.add_parser(
        "receive",
        help="a local OTLP receiver that prints events and spans as they arrive (development)",
        description=(
            "Listen for OTLP on 127.0.0.1 (HTTP and gRPC) and print each event as it "
            "arrives, and spans as trees (indented by parentage) when their turn arrives. "
            "Ctrl-C stops it. For production, run the OpenTelemetry Collector "
            "(see examples/collector/otelcol.yaml)."
        ),
    )
    receive.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    receive.add_argument(
        "--http-port", type=_port, default=4318, help="OTLP/HTTP port (default 4318; 0: any)"
    )
    receive.add_argument(
        "--grpc-port", type=_port, default=4317, help="OTLP/gRPC port (default 4317; 0: any)"
    )
    receive.add_argument("--no-http", action="store_true", help="do not listen for OTLP/HTTP")
    receive.add_argument("--no-grpc", action="store_true", help="do not listen for OTLP/gRPC")
    receive.add_argument("--json", action="store_true", help="print JSON lines instead")
    receive.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="also append each event and span as a JSON line here",
    )

    config = commands.add_parser(
        "config", help="work with the [otel] table", description="Work with the [otel] table."
    )
    config_commands = config.add_subparsers(dest="config_command", metavar="COMMAND", required=True)
    check = config_commands.add_parser(
        "check",
        help="load the [otel] table, show it, and make one test export",
        description=(
            "Load the [otel] table, print the resolved config (header values masked) and, for "
            "an OTLP exporter, make one bounded test export. Exit 0 only when it was accepted."
        ),
    )
    check.add_argument(
        "path",
        nargs="?",
        type=Path,
        help=f"the config file (default: {default_config_path()})",
    )
    check.add_argument(
        "--timeout", type=float, default=5.0, help="seconds to wait for the collector (default 5)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            from ._demo import run_demo

            return run_demo(protocol=args.protocol, config_path=args.config, out=sys.stdout)
        if args.command == "receive":
            return _receive(args, sys.stdout)
        return _config_check(args.path, args.timeout, sys.stdout)
    except CliError as exc:
        print(f"codex-otel: {exc}", file=sys.stderr)
        return exc.code
    except ConfigError as exc:
        print(f"codex-otel: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _config_check(path: Path | None, timeout: float, out: TextIO) -> int:
    from ._check import check_exports, describe_config

    if path is not None and not path.is_file():
        raise CliError(f"{path}: no such file")
    config = load_config(path)
    for line in describe_config(config):
        print(line, file=out)
    labels = {
        "logs": "test export:      ",
        "metrics": "metrics export:   ",
        "traces": "span export:      ",
    }
    accepted = True
    for kind, result in check_exports(config, timeout=timeout).items():
        if result is None:
            print(labels[kind] + "skipped (exporter is none: nothing is sent)", file=out)
            continue
        print(f"{labels[kind]}{result.outcome}: {result.detail}", file=out)
        accepted = accepted and result.accepted
    return EXIT_OK if accepted else EXIT_FAILED


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _receive(args: argparse.Namespace, out: TextIO) -> int:
    from ..testing import OtlpReceiver, ReceivedLog, ReceivedSpan
    from ._format import SpanPrinter, event_json, event_line, span_json

    if args.no_http and args.no_grpc:
        raise CliError("nothing to listen on: --no-http and --no-grpc together")
    lock = threading.Lock()
    count = 0
    span_count = 0
    printer = SpanPrinter()
    try:
        sink = args.output.open("a", encoding="utf-8") if args.output else None
    except OSError as exc:
        raise CliError(f"{args.output}: cannot append events there ({exc.strerror})") from None

    def show(log: ReceivedLog) -> None:
        nonlocal count
        line = event_json(log)
        with lock:
            count += 1
            print(line if args.json else event_line(log), file=out, flush=True)
            if sink is not None:
                sink.write(line + "\n")
                sink.flush()

    def show_span(span: ReceivedSpan) -> None:
        nonlocal span_count
        line = span_json(span)
        with lock:
            span_count += 1
            if args.json:
                print(line, file=out, flush=True)
            else:
                for text in printer.add(span):
                    print(text, file=out, flush=True)
            if sink is not None:
                sink.write(line + "\n")
                sink.flush()

    receiver = OtlpReceiver(
        host=args.host,
        http_port=None if args.no_http else args.http_port,
        grpc_port=None if args.no_grpc else args.grpc_port,
        on_log=show,
        on_span=show_span,
    )
    try:
        receiver.start()
    except OSError as exc:
        if sink is not None:
            sink.close()
        raise CliError(str(exc)) from None
    listening = []
    if not args.no_http:
        listening.append(f"OTLP/HTTP {receiver.logs_endpoint}")
    if not args.no_grpc:
        listening.append(f"OTLP/gRPC {receiver.grpc_endpoint}")
    print(f"listening: {', '.join(listening)} (Ctrl-C stops)", file=sys.stderr, flush=True)
    # A service manager's SIGTERM stops it as cleanly as Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        receiver.stop()
        if sink is not None:
            sink.close()
    with lock:
        for text in [] if args.json else printer.rest():  # spans whose turn never came
            print(text, file=out, flush=True)
    print(f"stopped: {count} events and {span_count} spans received", file=sys.stderr, flush=True)
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
