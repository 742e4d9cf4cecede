"""Graph encoders: ``forward(batch) -> [num_graphs, out_dim]`` (see ``base`` for the contract).

Each architecture is imported on first access (PyG's AttentiveFP alone takes seconds to import).
"""

from importlib import import_module
from typing import Any

_WHERE = {
    "AttentiveFP": "attentivefp",
    "ConvEncoder": "base",
    "GraphEncoder": "base",
    "DMPNN": "dmpnn",
    "GATv2": "gat",
    "GCN": "gcn",
    "GIN": "gin",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
