"""Benchmarks of codex_otel against the raw OpenTelemetry SDK, run by ``make bench``.

``python -m benchmarks`` runs every ``benchmarks/bench_*.py`` module in name order. Each module
exposes ``run() -> dict`` (optionally ``run(*, quick: bool)``): the dict goes into
``results.json`` under the module's short name, and into a section of ``RESULTS.md``. A result may
carry ``"targets"``: a list of :func:`benchmarks._common.target` dicts, printed PASS/MISS.
"""
