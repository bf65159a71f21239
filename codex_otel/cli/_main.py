"""The `codex-otel` command line: demo, receive, view, config check, analytics replay.

Errors a user can cause (a bad config, a busy port, an unreachable endpoint) are one
line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import math
import os
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


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


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
            "(conversation start, prompt, a streamed model response, tool decision and calls, "
            "in one turn) through the real pipeline and helpers, and print every event that "
            "arrived, the turn's spans as a tree, and how many were sent, arrived and lost. "
            "Exit 0 only when nothing was lost."
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
    demo.add_argument(
        "--record",
        type=Path,
        metavar="FILE",
        help="also append the session (events, spans and metrics) to FILE as OTLP/JSON lines, "
        "for `codex-otel view FILE`",
    )

    receive = commands.add_parser(
        "receive",
        help="a local OTLP receiver that prints events, metrics and spans as they arrive",
        description=(
            "Listen for OTLP on 127.0.0.1 (HTTP and gRPC) and print each event, and each "
            "metric's data points, as they arrive, and spans as trees (indented by parentage) "
            "when their turn arrives. Ctrl-C stops it. For production, run the "
            "OpenTelemetry Collector (see examples/collector/otelcol.yaml)."
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
        help="also append each event, metric and span as a JSON line here",
    )

    view = commands.add_parser(
        "view",
        help="a local page showing sessions as pictures, live or from files",
        description=(
            "Serve a page on 127.0.0.1 (its URL is printed) showing conversations, turns, a "
            "timeline of their events and charts, from what an embedded OTLP receiver "
            "receives (HTTP and gRPC, as `receive` listens; the default without FILEs) and/or "
            "from OTLP/JSON lines FILEs (the otlp-file exporter's), followed as they grow."
        ),
    )
    view.add_argument("files", nargs="*", type=Path, metavar="FILE", help="OTLP/JSON lines files")
    view.add_argument(
        "--listen",
        action="store_true",
        help="also receive OTLP live when FILEs are given (without FILEs it always does)",
    )
    view.add_argument("--port", type=_port, default=0, help="the page's port (default 0: any)")
    view.add_argument(
        "--host", default="127.0.0.1", help="address the receiver listens on (default 127.0.0.1)"
    )
    view.add_argument(
        "--http-port", type=_port, default=4318, help="OTLP/HTTP port (default 4318; 0: any)"
    )
    view.add_argument(
        "--grpc-port", type=_port, default=4317, help="OTLP/gRPC port (default 4317; 0: any)"
    )
    view.add_argument("--no-http", action="store_true", help="do not listen for OTLP/HTTP")
    view.add_argument("--no-grpc", action="store_true", help="do not listen for OTLP/gRPC")
    view.add_argument(
        "--max-events",
        type=_positive,
        default=20_000,
        help="events kept (and spans kept); older ones are dropped and counted (default 20000)",
    )

    config = commands.add_parser(
        "config", help="work with the [otel] table", description="Work with the [otel] table."
    )
    config_commands = config.add_subparsers(dest="config_command", metavar="COMMAND", required=True)
    check = config_commands.add_parser(
        "check",
        help="load the [otel] table, show it, and make one test export",
        description=(
            "Load the [otel] table, print the resolved config (header values masked) and make "
            "one bounded test export to each exporter set (events, metrics, traces; for an "
            "otlp-file exporter, whether the file can be appended to, writing nothing). "
            "Exit 0 only when every test export was accepted."
        ),
    )
    check.add_argument(
        "path",
        nargs="?",
        type=Path,
        help="the config file (default: $CODEX_HOME/config.toml, else ~/.codex/config.toml)",
    )
    check.add_argument(
        "--timeout",
        default="5",
        metavar="SECONDS",
        help="the whole check ends within this many seconds (default 5; at most 600)",
    )
    analytics = commands.add_parser(
        "analytics", help="Codex's product analytics", description="Codex's product analytics."
    )
    analytics_commands = analytics.add_subparsers(
        dest="analytics_command", metavar="COMMAND", required=True
    )
    replay = analytics_commands.add_parser(
        "replay",
        help="feed a recorded app-server session through the analytics client",
        description=(
            "Feed a recorded app-server session (JSON Lines: one JSON-RPC message per line, "
            "with who sent it) through the analytics client and print the track events."
        ),
    )
    replay.add_argument(
        "file", type=Path, help="the recording, e.g. examples/analytics/session.jsonl"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            from ._demo import run_demo

            return run_demo(
                protocol=args.protocol, config_path=args.config, out=sys.stdout, record=args.record
            )
        if args.command == "receive":
            return _receive(args, sys.stdout)
        if args.command == "analytics":
            from ..analytics._replay import ReplayError, replay

            try:
                return replay(args.file, sys.stdout)
            except ReplayError as exc:
                raise CliError(str(exc)) from None
        if args.command == "view":
            return _view(args, sys.stdout)
        return _config_check(args.path, _timeout(args.timeout), sys.stdout)
    except CliError as exc:
        print(f"codex-otel: {exc}", file=sys.stderr)
        return exc.code
    except ConfigError as exc:
        print(f"codex-otel: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _timeout(text: str) -> float:
    """`--timeout`, checked here rather than by argparse: one line, not usage plus error."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds <= _MAX_TIMEOUT_S:  # also refuses nan
        raise CliError(f"--timeout: expected seconds > 0 and <= {_MAX_TIMEOUT_S}, got {text!r}")
    return seconds


_MAX_TIMEOUT_S = 600


def _config_check(path: Path | None, timeout: float, out: TextIO) -> int:
    from ._check import check_exports, describe_config

    config = load_config(path)
    for line in describe_config(config):
        print(line, file=out)
    if path is None and not default_config_path().is_file():
        # Not an error (a host without the file runs with these defaults), but a newcomer
        # who expected their table to be read must hear that none was found.
        print(
            f"note:             no file at {default_config_path()}: these are the defaults "
            "(set CODEX_HOME or pass a PATH)",
            file=out,
        )
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


def _view(args: argparse.Namespace, out: TextIO) -> int:
    from ._view import run_view
    from ._view_model import Limits

    return run_view(
        files=args.files,
        listen=args.listen or not args.files,
        host=args.host,
        port=args.port,
        http_port=None if args.no_http else args.http_port,
        grpc_port=None if args.no_grpc else args.grpc_port,
        limits=Limits(max_events=args.max_events, max_spans=args.max_events),
        out=out,
    )


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _private_append(path: Path) -> TextIO:
    """`path` opened for appending; created readable by its owner only, as the file exporter
    does (what is received holds prompts and tool output)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    return os.fdopen(fd, "a", encoding="utf-8")


def _receive(args: argparse.Namespace, out: TextIO) -> int:
    from ..testing import Metric, OtlpReceiver, ReceivedLog, ReceivedSpan
    from ._format import SpanPrinter, event_json, event_line, metric_json, metric_lines, span_json

    if args.no_http and args.no_grpc:
        raise CliError("nothing to listen on: --no-http and --no-grpc together")
    lock = threading.Lock()
    count = points = span_count = 0
    printer = SpanPrinter()
    try:
        sink = _private_append(args.output) if args.output else None
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

    def show_metrics(metrics: list[Metric]) -> None:
        nonlocal points
        lines = []
        for metric in metrics:
            lines += [metric_json(metric)] if args.json else metric_lines(metric)
        with lock:
            points += sum(len(metric.points) for metric in metrics)
            print("\n".join(lines), file=out, flush=True)
            if sink is not None:
                sink.write("".join(metric_json(metric) + "\n" for metric in metrics))
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
        on_metrics=show_metrics,
        on_span=show_span,
    )
    try:
        receiver.start()
    except OSError as exc:
        if sink is not None:
            sink.close()
        # strerror holds the receiver's own sentence; str() would prefix "[Errno 98]".
        raise CliError(exc.strerror or str(exc)) from None
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
    received = f"{count} events, {points} metric points and {span_count} spans"
    print(f"stopped: {received} received", file=sys.stderr, flush=True)
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
