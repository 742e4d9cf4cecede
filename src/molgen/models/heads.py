"""Prediction heads: encoder output → raw task outputs.

A head only maps vectors to numbers. The task object (``molgen.training.tasks``) owns the
loss, metrics, NaN-label masking and output transforms (sigmoid, softmax, un-scaling), so
one head serves regression and classification alike.
"""

from __future__ import annotations

from torch import Tensor, nn

from molgen.models.layers import MLP


class PredictionHead(nn.Module):
    """MLP head producing raw outputs (logits or standardized regression values).

    Args:
        in_dim: input features (the encoder's ``out_dim``).
        out_dim: number of outputs (targets; targets × classes for multiclass).
        hidden_dim: width of the hidden layers.
        n_layers: number of linear layers; 1 is a linear head.
        dropout: dropout probability before each linear layer after the first.
        activation: hidden activation name (see ``molgen.models.layers.ACTIVATIONS``).

    Shapes:
        input ``[B, in_dim]`` → output ``[B, out_dim]``.
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        hidden_dim: int = 300,
        n_layers: int = 2,
        dropout: float = 0.0,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        self.in_dim, self.out_dim = in_dim, out_dim
        self.mlp = MLP(in_dim, hidden_dim, out_dim, n_layers, dropout, activation)

    def reset_parameters(self) -> None:
        self.mlp.reset_parameters()

    def forward(self, x: Tensor) -> Tensor:
        return self.mlp(x)

    def __repr__(self) -> str:
        m = self.mlp
        return (
            f"{type(self).__name__}(in_dim={self.in_dim}, out_dim={self.out_dim}, "
            f"hidden_dim={m.hidden_dim}, n_layers={m.n_layers}, dropout={m.dropout}, "
            f"activation={m.activation!r})"
        )
