"""One federated site: its own file, split and predictor; local rounds through the training core; its run folder.

A site builds everything the way ``molgen train`` does (the family's config, data, split and predictor); only
the trunk (the predictor's ``encoder``) travels to the server. Its head and task state stay here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from molgen.config import RunConfig, replace, resolved
from molgen.data.catalog import DatasetSpec
from molgen.data.labels import Labels
from molgen.data.splits import Split
from molgen.errors import ConfigError, InvalidInputError, MolgenError
from molgen.evaluation.supervised import higher_is_better
from molgen.families.supervised import SupervisedFamily
from molgen.training import predictive as uq
from molgen.training.predictor import Predictor

log = logging.getLogger("molgen")

__all__ = ["Site", "prepare_site", "trunk_arrays", "trunk_shapes"]


@dataclass
class Site:
    """A site's resolved config, data, split and predictor, and what its rounds gave.

    Attributes:
        history: one record per round: ``round``, ``local_val`` (after local training), ``global_val``.
    """

    name: str
    cfg: RunConfig
    family: SupervisedFamily
    dataset: DatasetSpec | None
    data: Any
    collate: Any
    labels: Labels
    splits_record: dict[str, Any]
    predictor: Predictor
    history: list[dict[str, Any]] = field(default_factory=list)

    @property
    def split(self) -> Split:
        return self.labels.splits[0]

    @property
    def n_train(self) -> int:
        return len(self.split.train)

    @property
    def n_val(self) -> int:
        return len(self.split.val)

    # --- the trunk --------------------------------------------------------------------------------------
    def get_trunk(self) -> list[np.ndarray]:
        return trunk_arrays(self.predictor)

    def set_trunk(self, arrays: list[np.ndarray]) -> None:
        """Loads the global trunk (the arrays in :func:`trunk_arrays` order); shapes must match."""
        state = self.predictor.encoder.state_dict()
        keys = _trunk_keys(self.predictor)
        if len(arrays) != len(keys):
            raise InvalidInputError(
                f"site {self.name}: the server sent {len(arrays)} trunk arrays, expected {len(keys)}"
            )
        for key, array in zip(keys, arrays):
            if tuple(array.shape) != tuple(state[key].shape):
                raise InvalidInputError(
                    f"site {self.name}: trunk array {key} has shape {array.shape}, expected {tuple(state[key].shape)}"
                )
            state[key] = torch.as_tensor(array, dtype=state[key].dtype)
        self.predictor.encoder.load_state_dict(state)

    # --- training and evaluation -----------------------------------------------------------------------
    def train_round(
        self, run_dir: Path, server_round: int, epochs: int, mu: float, *, head_only: bool = False
    ) -> dict[str, float]:
        """``epochs`` local epochs from the current trunk (FedProx term ``mu``); the validation metrics after them.

        The core's module and trainer, with a constant learning rate (``optim.lr``: a warm-up schedule would restart
        every round) and no early stopping; logs go to ``run_dir/logs/round_<r>``; no checkpoints (the server holds
        the state). ``head_only``: the trunk is frozen (fitting the head to the final global trunk)."""
        from molgen.federated.proximal import ProximalModule
        from molgen.training.trainer import build_trainer, run

        cfg = self.cfg
        monitor = resolved(cfg.task.monitor, "task.monitor")
        mode = "max" if higher_is_better(resolved(cfg.task.type, "task.type"), monitor) else "min"
        optim = replace(cfg.optim, scheduler="constant")
        module = ProximalModule(self.predictor.encoder, self.predictor.head, self.predictor.task, optim, mu=mu)
        frozen = [p for p in self.predictor.encoder.parameters() if p.requires_grad] if head_only else []
        for parameter in frozen:
            parameter.requires_grad_(False)
        trainer = build_trainer(
            replace(cfg.trainer, max_epochs=epochs, patience=0),
            run_dir,
            monitor=f"val/{monitor}",
            mode=mode,
            enable_checkpointing=False,
            tag=f"round_{server_round}" + ("_head" if head_only else ""),
        )
        datamodule = self.family.datamodule(cfg, self.collate, self.split, cfg.trainer.seed + server_round)
        try:
            outcome = run(module, datamodule, trainer, test=False)
        finally:
            for parameter in frozen:
                parameter.requires_grad_(True)
        self.predictor.cpu()
        return outcome.val

    def evaluate(self, part: str) -> dict[str, float]:
        """Metrics of the current predictor (trunk + this site's head) on the ``val`` or ``test`` rows."""
        rows = getattr(self.split, part)
        if len(rows) == 0:
            return {}
        preds = self.family.predict_rows(self.cfg, self.predictor, self.collate, rows)
        return self.predictor.task.evaluate(preds, torch.as_tensor(self.data.targets[rows]), part)


def prepare_site(cfg: RunConfig, name: str) -> Site:
    """Reads, checks and splits a site's file (``cfg.data.name``) and builds its predictor, seeded with
    ``cfg.trainer.seed`` (every site of a federation starts from the same trunk when they share the seed).

    Raises:
        ConfigError: a non-supervised family, k-fold, ensembles or uncertainty (one model per site).
        MolgenError: anything wrong with the file, its message naming the site and the file.
    """
    from molgen.families import FAMILIES
    from molgen.recipes import resolve_family
    from molgen.training.trainer import seed_everything

    cfg = resolve_family(cfg)
    family = FAMILIES.get(str(cfg.family))
    if not isinstance(family, SupervisedFamily):
        raise ConfigError(f"federated training needs a supervised family (property, expression), not {cfg.family}")
    if cfg.data.n_folds > 1 or cfg.trainer.ensemble_size > 1 or uq.active(cfg):
        raise ConfigError(
            "federated training trains one model per site: no --n-folds, --ensemble-size, --uncertainty or --calibration"
        )
    try:
        cfg, dataset = family.resolve_config(replace(cfg, family=family.name))
        family.check(cfg)
        data = family.load_data(cfg, dataset)
        cfg, collate = family.prepare(cfg, data)
        labels, record = family.site_splits(cfg, data)
    except MolgenError as err:
        source = str(cfg.data.name)
        message = str(err) if source in str(err) else f"{source}: {err}"
        raise type(err)(f"site {name}: {message}") from None
    split = labels.splits[0]
    seed_everything(cfg.trainer.seed)
    task = family.member_task(cfg, data, split)
    predictor = family.build_predictor(cfg, task, data, split)
    log.info(
        "site %s: %s, %d train / %d val / %d test rows, targets %s",
        name,
        cfg.data.name,
        len(split.train),
        len(split.val),
        len(split.test),
        ", ".join(data.target_names),
    )
    return Site(name, cfg, family, dataset, data, collate, labels, record, predictor)


def _trunk_keys(predictor: Predictor) -> list[str]:
    """The encoder's floating-point state (parameters and float buffers, e.g. descriptor scaling), in order."""
    return [key for key, value in predictor.encoder.state_dict().items() if value.is_floating_point()]


def trunk_arrays(predictor: Predictor) -> list[np.ndarray]:
    """The federated part of a predictor: its encoder's float state as float32/64 numpy arrays."""
    state = predictor.encoder.state_dict()
    return [state[key].detach().cpu().numpy().copy() for key in _trunk_keys(predictor)]


def trunk_shapes(predictor: Predictor) -> list[tuple[int, ...]]:
    state = predictor.encoder.state_dict()
    return [tuple(state[key].shape) for key in _trunk_keys(predictor)]
