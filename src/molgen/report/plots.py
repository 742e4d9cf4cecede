"""The report's plots: matplotlib figures (Agg, no pyplot state) rendered to PNG ``data:`` URIs.

Every function takes plain arrays or frames and returns one ``data:image/png;base64,…`` string.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

DPI = 96


def figure(n_panels: int = 1, *, width: float = 4.2, height: float = 3.4) -> tuple[Figure, list[Axes]]:
    """A figure of ``n_panels`` side by side (inches per panel)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * n_panels, height), dpi=DPI, layout="constrained")
    axes = fig.subplots(1, n_panels, squeeze=False)[0]
    return fig, list(axes)


def to_data_uri(fig: Figure) -> str:
    """The figure as a PNG ``data:`` URI."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return png_uri(buffer.getvalue())


def png_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def learning_curves(curves: Sequence[tuple[str, pd.DataFrame]], monitor: str) -> str:
    """Training and validation loss per epoch (left) and the validation ``monitor`` metric (right), one line
    per member (Lightning CSV logs: one row per logged step, columns ``epoch``, ``train/loss``, ``val/…``)."""
    fig, (loss_ax, metric_ax) = figure(2)
    for i, (tag, log) in enumerate(curves):
        label, color = tag or "model", f"C{i % 10}"  # one colour per member
        for column, style in (("train/loss", "-"), ("val/loss", "--")):
            series = _per_epoch(log, column)
            if series is not None:
                x, y = series.index.to_numpy(), series.to_numpy()
                loss_ax.plot(x, y, style, color=color, label=f"{label} {column.split('/')[0]}")
        series = _per_epoch(log, f"val/{monitor}")
        if series is not None:
            x, y = series.index.to_numpy(), series.to_numpy()
            metric_ax.plot(x, y, "o-", color=color, markersize=3, label=label)
    loss_ax.set(xlabel="epoch", ylabel="loss", title="loss")
    metric_ax.set(xlabel="epoch", ylabel=monitor, title=f"validation {monitor}")
    for ax in (loss_ax, metric_ax):
        if ax.lines and len(ax.lines) <= 12:
            ax.legend(fontsize="small")
    return to_data_uri(fig)


def _per_epoch(log: pd.DataFrame, column: str) -> pd.Series | None:
    if column not in log.columns or "epoch" not in log.columns:
        return None
    values = log[["epoch", column]].dropna()
    return values.groupby("epoch")[column].last() if len(values) else None


def parity(truth: np.ndarray, pred: np.ndarray, target: str) -> str:
    """Predicted against true values with the identity line."""
    fig, (ax,) = figure(width=3.8, height=3.6)
    ax.scatter(truth, pred, s=12, alpha=0.7)
    both = np.concatenate([truth, pred])
    low, high = (float(both.min()), float(both.max())) if len(both) else (0.0, 1.0)
    ax.plot([low, high], [low, high], "k--", linewidth=1)
    ax.set(xlabel=f"true {target}", ylabel=f"predicted {target}", title=target)
    return to_data_uri(fig)


def roc_pr(truth: np.ndarray, score: np.ndarray, label: str) -> str:
    """ROC curve (left) and precision–recall curve (right) of one binary label, with their areas."""
    from sklearn.metrics import auc, precision_recall_curve, roc_curve

    fig, (roc_ax, pr_ax) = figure(2, width=3.6)
    fpr, tpr, _ = roc_curve(truth, score)
    roc_ax.plot(fpr, tpr, label=f"AUC {auc(fpr, tpr):.3f}")
    roc_ax.plot([0, 1], [0, 1], "k--", linewidth=1)
    roc_ax.set(xlabel="false positive rate", ylabel="true positive rate", title=f"ROC: {label}")
    precision, recall, _ = precision_recall_curve(truth, score)
    pr_ax.plot(recall, precision, label=f"AUC {auc(recall, precision):.3f}")
    pr_ax.axhline(float(np.mean(truth)), color="k", linestyle="--", linewidth=1)
    pr_ax.set(xlabel="recall", ylabel="precision", title=f"precision–recall: {label}")
    for ax in (roc_ax, pr_ax):
        ax.legend(loc="lower right", fontsize="small")
    return to_data_uri(fig)


def reliability(truth: np.ndarray, prob: np.ndarray, label: str, n_bins: int = 10) -> str:
    """Observed fraction of positives against the mean predicted probability, in ``n_bins`` equal bins."""
    fig, (ax,) = figure(width=3.8, height=3.6)
    bins = np.clip((prob * n_bins).astype(int), 0, n_bins - 1)
    used = [b for b in range(n_bins) if (bins == b).any()]
    ax.plot([prob[bins == b].mean() for b in used], [truth[bins == b].mean() for b in used], "o-", label="observed")
    ax.plot([0, 1], [0, 1], "k--", linewidth=1, label="perfect")
    ax.set(xlabel="predicted probability", ylabel="fraction positive", title=f"calibration: {label}")
    ax.legend(fontsize="small")
    return to_data_uri(fig)


def gaussian_calibration(truth: np.ndarray, pred: np.ndarray, std: np.ndarray, target: str) -> str:
    """Observed against expected coverage of the central Gaussian intervals ``pred ± z·std`` (left; the area
    between the curve and the diagonal is the miscalibration area) and |error| against std (right)."""
    from scipy.stats import norm

    fig, (cal_ax, err_ax) = figure(2, width=3.8)
    expected = np.linspace(0.01, 0.99, 50)
    z = norm.ppf(0.5 + expected / 2)
    error = np.abs(truth - pred)
    safe_std = np.where(std > 0, std, np.finfo(float).tiny)
    observed = [(error <= q * safe_std).mean() for q in z]
    cal_ax.plot(expected, observed, label="observed")
    cal_ax.plot([0, 1], [0, 1], "k--", linewidth=1, label="perfect")
    cal_ax.set(xlabel="expected coverage", ylabel="observed coverage", title=f"calibration: {target}")
    cal_ax.legend(fontsize="small")
    err_ax.scatter(std, error, s=12, alpha=0.7)
    err_ax.set(xlabel=f"{target}_std", ylabel="|error|", title="error against uncertainty")
    return to_data_uri(fig)


def intervals(truth: np.ndarray, pred: np.ndarray, lower: np.ndarray, upper: np.ndarray, target: str) -> str:
    """Prediction intervals of the test rows ordered by prediction, with the true values (misses in red)."""
    fig, (ax,) = figure(width=7.0, height=3.4)
    order = np.argsort(pred)
    x = np.arange(len(order))
    ax.fill_between(x, lower[order], upper[order], alpha=0.3, step="mid", label="interval")
    ax.plot(x, pred[order], "-", linewidth=1, label="prediction")
    inside = (truth >= lower) & (truth <= upper)
    ax.scatter(x[inside[order]], truth[order][inside[order]], s=10, label="true (inside)")
    ax.scatter(x[~inside[order]], truth[order][~inside[order]], s=14, color="red", label="true (outside)")
    ax.set(xlabel="test rows, by prediction", ylabel=target, title=f"prediction intervals: {target}")
    ax.legend(fontsize="small")
    return to_data_uri(fig)


def similarity_histogram(similarity: np.ndarray, threshold: float | None) -> str:
    """Histogram of the test molecules' Tanimoto similarity to their nearest training molecule."""
    fig, (ax,) = figure(width=5.0, height=3.4)
    ax.hist(similarity, bins=np.linspace(0, 1, 41).tolist())
    if threshold is not None:
        ax.axvline(threshold, color="red", linestyle="--", label=f"in-domain threshold {threshold:.3f}")
        ax.legend(fontsize="small")
    ax.set(xlabel="Tanimoto similarity to nearest training molecule", ylabel="test molecules")
    return to_data_uri(fig)
