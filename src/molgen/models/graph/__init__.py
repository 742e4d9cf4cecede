"""Graph encoders: ``forward(batch) -> [num_graphs, out_dim]`` (see ``base`` for the contract)."""

from molgen.models.graph.attentivefp import AttentiveFP
from molgen.models.graph.base import ConvEncoder, GraphEncoder
from molgen.models.graph.dmpnn import DMPNN
from molgen.models.graph.gat import GATv2
from molgen.models.graph.gcn import GCN
from molgen.models.graph.gin import GIN

__all__ = ["DMPNN", "GCN", "GIN", "AttentiveFP", "ConvEncoder", "GATv2", "GraphEncoder"]
