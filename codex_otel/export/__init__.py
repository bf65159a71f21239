"""Config -> SDK exporter for any signal (`_factory`), TLS (`_tls`), and bounded, counted
delivery (`_delivery`, `_stats`).

Only `DeliveryStats` is re-exported here: the other modules import the SDK's export code,
which a provider with exporter `none` never loads, so their users import them directly.
"""

from ._stats import DeliveryStats

__all__ = ["DeliveryStats"]
