"""k-mer count baseline: counts of every k-mer → a linear model (ridge / L2 logistic regression).

The counting runs as a ``torch.nn`` module on one-hot input, so a fitted baseline is an ordinary
``Predictor(encoder=KmerCounts, head, task)``: exported as safetensors, loaded and called exactly like
the neural sequence models. Fitting uses scikit-learn (:func:`fit_linear`); nothing is pickled.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from molgen.errors import ConfigError, UnknownNameError
from molgen.models.sequence.base import input_tensor


def kmer_feature_names(k: int) -> list[str]:
    """Column names of :class:`KmerCounts` features: every k-mer of length 1..k, lexicographic per length."""
    names: list[str] = []
    for size in range(1, k + 1):
        codes = np.arange(4**size)
        letters = np.array(list("ACGT"))
        digits = [(codes // 4 ** (size - 1 - j)) % 4 for j in range(size)]
        names += ["".join(chars) for chars in zip(*(letters[d] for d in digits), strict=True)]
    return names


class KmerCounts(nn.Module):
    """Counts of every k-mer of length 1..``k`` on the given strand, standardized with training statistics.

    A position counts only when it holds exactly one base (one-hot); k-mers overlapping ``N`` or padding
    are not counted.

    Args:
        k: longest k-mer (features: 4 + 16 + … + 4^k; 1,364 for k = 5).

    Shapes:
        ``x [B, 4, L]`` (or a batch with ``.x``) → ``[B, out_dim]``.
    """

    mean: Tensor
    std: Tensor

    def __init__(self, k: int = 5) -> None:
        super().__init__()
        if not 1 <= k <= 8:
            raise ConfigError(f"k-mer size must be between 1 and 8, got {k}")
        self.k = k
        self.out_dim = sum(4**size for size in range(1, k + 1))
        self.register_buffer("mean", torch.zeros(self.out_dim))
        self.register_buffer("std", torch.ones(self.out_dim))

    def reset_parameters(self) -> None:
        self.mean.zero_()
        self.std.fill_(1.0)

    @torch.no_grad()
    def counts(self, batch: Any) -> Tensor:
        """Raw counts ``[B, out_dim]`` (float32)."""
        x = input_tensor(batch)
        base = x.argmax(1)  # [B, L]
        valid = (x.amax(1) == 1) & (x.sum(1) == 1)
        parts, code, ok = [], base, valid
        for size in range(1, self.k + 1):
            if size > 1:
                code, ok = code[:, :-1] * 4 + base[:, size - 1 :], ok[:, :-1] & valid[:, size - 1 :]
            out = torch.zeros(x.shape[0], 4**size, device=x.device)
            if code.shape[1] > 0:
                out.scatter_add_(1, torch.where(ok, code, 0), ok.float())
            parts.append(out)
        return torch.cat(parts, dim=1)

    def fit_scaling(self, counts: Tensor) -> None:
        """Sets the standardization from training counts ``[n, out_dim]`` (constant features get std 1)."""
        self.mean.copy_(counts.mean(0))
        std = counts.std(0, unbiased=False)
        self.std.copy_(torch.where(std > 0, std, torch.ones_like(std)))

    def forward(self, batch: Any) -> Tensor:
        return (self.counts(batch) - self.mean) / self.std

    def __repr__(self) -> str:
        return f"{type(self).__name__}(k={self.k}, out_dim={self.out_dim})"


RIDGE_ALPHAS = (1e-1, 1.0, 1e1, 1e2, 1e3, 1e4, 1e5)
"""Ridge penalties tried (on standardized counts); the best on the validation split is kept."""
LOGISTIC_ALPHAS = (1e-2, 1e-1, 1.0, 1e1, 1e2)
"""L2 penalties (``C = 1 / alpha``) tried for binary targets."""


def fit_linear(
    kind: str, features: np.ndarray, targets: np.ndarray, alphas: Sequence[float] | None = None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Fits one linear model per penalty and target (rows with a NaN label are left out for that target).

    Args:
        kind: ``ridge`` (scikit-learn ``Ridge``; targets as given) or ``logistic`` (``LogisticRegression``,
            L2, labels 0/1).
        features: ``[n, F]`` standardized features.
        targets: ``[n, T]``.

    Returns:
        Per penalty: ``(coef [T, F], intercept [T])`` (``float32``).
    """
    from sklearn.linear_model import LogisticRegression, Ridge

    if kind not in ("ridge", "logistic"):
        raise UnknownNameError(f"unknown linear model {kind!r}; valid: ridge, logistic")
    alphas = list(alphas or (RIDGE_ALPHAS if kind == "ridge" else LOGISTIC_ALPHAS))
    n_targets = targets.shape[1]
    results = [(np.zeros((n_targets, features.shape[1]), np.float32), np.zeros(n_targets, np.float32)) for _ in alphas]
    for t in range(n_targets):
        rows = ~np.isnan(targets[:, t])
        x, y = features[rows], targets[rows, t]
        if kind == "logistic" and np.unique(y).size < 2:
            for _, intercept in results:
                intercept[t] = np.log((y.mean() + 1e-3) / (1 - y.mean() + 1e-3))
            continue
        for (coef, intercept), alpha in zip(results, alphas, strict=True):
            with warnings.catch_warnings():  # small penalties on collinear counts: ill-conditioned, still usable
                warnings.simplefilter("ignore")
                if kind == "ridge":
                    model: Any = Ridge(alpha=alpha).fit(x, y)
                else:
                    model = LogisticRegression(C=1.0 / alpha, max_iter=500).fit(x, y.astype(int))
            coef[t] = np.ravel(model.coef_)
            intercept[t] = np.ravel(model.intercept_)[0]
    return results
