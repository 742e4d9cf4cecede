"""Fitting the k-mer count + linear baseline (``--model kmer``) with scikit-learn instead of Lightning.

The predictor is the usual ``Predictor(KmerCounts, one-layer PredictionHead, task)``; fitting counts the
k-mers of every row, standardizes them on the training rows, fits one linear model per penalty and keeps
the best on validation, then writes it into the head, so export and prediction are the same as for the
neural DNA models.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from molgen.data.splits import Split
from molgen.errors import ConfigError
from molgen.evaluation.supervised import BINARY, MULTILABEL, REGRESSION, higher_is_better
from molgen.models.heads import PredictionHead
from molgen.models.kmer import KmerCounts, fit_linear
from molgen.training.batches import SequenceCollate
from molgen.training.predictor import Predictor
from molgen.training.tasks import RegressionTask
from molgen.training.trainer import FitOutcome


def fit_kmer(
    predictor: Predictor, collate: SequenceCollate, split: Split, monitor: str, test: bool, throughput: Any
) -> FitOutcome:
    """Fits the k-mer predictor on ``split.train`` keeping the penalty best on ``val/<monitor>``; adds its
    time and training rows to ``throughput`` (a :class:`~molgen.training.callbacks.Throughput`)."""
    start = time.perf_counter()
    encoder, task = predictor.encoder, predictor.task
    if not isinstance(encoder, KmerCounts):
        raise ConfigError(f"fit_kmer needs a k-mer predictor, got a {type(encoder).__name__} encoder")
    rows = np.concatenate([split.train, split.val, split.test])
    counts = torch.cat([encoder.counts(collate(rows[i : i + 1024])) for i in range(0, len(rows), 1024)])
    encoder.fit_scaling(counts[: len(split.train)])
    features = ((counts - encoder.mean) / encoder.std).numpy()
    parts = dict(
        zip(("train", "val", "test"), np.split(features, np.cumsum([len(split.train), len(split.val)])), strict=True)
    )
    assert collate.targets is not None  # training data are labelled
    labels = collate.targets.numpy()
    regression = task.kind == REGRESSION
    if not regression and task.kind not in (BINARY, MULTILABEL):
        raise ConfigError(f"the kmer baseline supports regression and binary tasks, not {task.kind}")
    train_y = labels[split.train]
    if regression:  # fit standardized targets; the task un-scales predictions
        assert isinstance(task, RegressionTask)
        train_y = (train_y - task.target_mean.numpy()) / task.target_std.numpy()
    candidates = fit_linear("ridge" if regression else "logistic", parts["train"], train_y)
    best, best_score = None, None
    sign = 1 if higher_is_better(task.kind, monitor) else -1
    for coef, intercept in candidates:
        preds = task.predict(torch.as_tensor(parts["val"] @ coef.T + intercept))
        score = task.evaluate(preds, torch.as_tensor(labels[split.val]), "val").get(monitor, float("nan"))
        if best is None or (
            not np.isnan(score) and (best_score is None or np.isnan(best_score) or sign * score > sign * best_score)
        ):
            best, best_score = (coef, intercept), score
    head = predictor.head
    assert isinstance(head, PredictionHead) and best is not None  # the kmer head; >= 1 candidate
    linear = head.mlp.net[0]
    assert isinstance(linear, torch.nn.Linear)  # a one-layer head
    with torch.no_grad():
        linear.weight.copy_(torch.as_tensor(best[0]))
        linear.bias.copy_(torch.as_tensor(best[1]))
    throughput.seconds += time.perf_counter() - start
    throughput.rows += len(split.train)
    outcome = FitOutcome(epochs=1)
    for part in ("val", "test") if test else ("val",):
        with torch.no_grad():
            preds = task.predict(predictor.head(torch.as_tensor(parts[part])))
        setattr(outcome, part, task.evaluate(preds, torch.as_tensor(labels[getattr(split, part)]), part))
    return outcome
