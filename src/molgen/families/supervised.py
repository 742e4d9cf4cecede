"""The supervised loop, written once: split → datamodule → trainer → evaluate → ensemble/folds → export.

A supervised family (property, expression, …) subclasses :class:`SupervisedFamily` and supplies only
what differs: reading and checking its data, encoding it for a collate, building a predictor, its
datamodule and the input side of its model spec. The loop owns the run folder, the members of every
fold, the aggregated metrics, ``splits.json``, ``metrics.json`` and the export.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, cast

import numpy as np
import torch

from molgen.config import DnaConvModelConfig, GraphModelConfig, RunConfig, replace, resolved
from molgen.data.catalog import DatasetSpec
from molgen.data.splits import Split
from molgen.evaluation.supervised import higher_is_better
from molgen.families import common
from molgen.models.heads import PredictionHead
from molgen.training.artifacts import ModelSpec, export_model, run_paths, write_json
from molgen.training.predictor import Predictor
from molgen.training.tasks import Task, build_task

if TYPE_CHECKING:
    from molgen.training.trainer import FitOutcome


class LabelledData(Protocol):
    """What the loop needs of a family's data: labels of the valid rows and which input rows they are."""

    targets: np.ndarray  # [n_valid, T]
    target_names: list[str]

    @property
    def valid_index(self) -> np.ndarray: ...

    @property
    def invalid(self) -> list[Any]: ...  # items with an ``index`` (their input row)


class SupervisedFamily:
    """Base of the supervised families; subclasses fill in the hooks below and register themselves.

    Attributes:
        name: the family name (set by ``register_family``); models: the model names it trains.
        rows: how ``splits.json`` counts rows.
    """

    name: str
    models: tuple[str, ...]
    rows = "0-based data row of the input table"

    # --- hooks ---------------------------------------------------------------------------------------
    def resolve_config(self, cfg: RunConfig) -> tuple[RunConfig, DatasetSpec | None]:
        raise NotImplementedError

    def load_data(self, cfg: RunConfig, spec: DatasetSpec | None) -> Any:
        raise NotImplementedError

    def prepare(self, cfg: RunConfig, data: Any) -> tuple[RunConfig, Any]:
        """``(cfg with data-derived options set, collate over the valid rows)``."""
        raise NotImplementedError

    def make_splits(self, cfg: RunConfig, data: Any) -> list[Split]:
        raise NotImplementedError

    def build_predictor(self, cfg: RunConfig, task: Task, data: Any, split: Split) -> Predictor:
        raise NotImplementedError

    def datamodule(self, cfg: RunConfig, collate: Any, split: Split, seed: int) -> Any:
        raise NotImplementedError

    def predict_rows(self, cfg: RunConfig, predictor: Predictor, collate: Any, rows: np.ndarray) -> torch.Tensor:
        """Predictions of one member for rows of the collate (the ensemble's test metrics)."""
        return predictor.predict_rows(collate, rows)

    def spec_fields(self, cfg: RunConfig) -> dict[str, Any]:
        """The input side of ``model.yaml`` (``input``, ``featurizer`` …)."""
        raise NotImplementedError

    def model_card(self, spec: ModelSpec, cfg: RunConfig, metrics: dict[str, dict[str, float]]) -> str:
        raise NotImplementedError

    def callbacks(self) -> list[Any]:
        """Callbacks shared by every member of one fit (e.g. a throughput meter)."""
        return []

    def details(self, cfg: RunConfig, callbacks: list[Any]) -> dict[str, Any]:
        """Extras for ``RunResult.details``."""
        return {}

    def check(self, cfg: RunConfig) -> None:
        """Refuses option combinations the family cannot run, before any training."""

    def fit_member(
        self,
        cfg: RunConfig,
        predictor: Predictor,
        collate: Any,
        split: Split,
        *,
        seed: int,
        tag: str,
        run_dir: Any,
        callbacks: list[Any],
        resume: bool,
        test: bool,
    ) -> FitOutcome:
        """Trains one member with Lightning (a family may fit some models otherwise)."""
        from molgen.training.modules import SupervisedModule
        from molgen.training.trainer import build_trainer, run

        monitor = cfg.task.monitor
        mode = (
            "max"
            if higher_is_better(resolved(cfg.task.type, "task.type"), resolved(monitor, "task.monitor"))
            else "min"
        )
        module = SupervisedModule(predictor.encoder, predictor.head, predictor.task, cfg.optim)
        trainer = build_trainer(
            cfg.trainer, run_dir, monitor=f"val/{monitor}", mode=mode, extra_callbacks=callbacks, tag=tag
        )
        return run(module, self.datamodule(cfg, collate, split, seed), trainer, resume=resume, test=test)

    # --- the loop -------------------------------------------------------------------------------------
    def fit(
        self,
        cfg: RunConfig,
        *,
        resume: bool = False,
        extra_callbacks: list[Any] | None = None,
        export: bool = True,
        test: bool = True,
    ) -> common.RunResult:
        """Trains every fold × ensemble member, writes the run folder and exports the model.

        Args:
            resume: continue each member from its ``last.ckpt`` in an existing run folder.
            extra_callbacks: added to every trainer (e.g. Optuna pruning).
            export: write ``model/``; test: score on the test split.
        """
        from molgen.training.trainer import quiet_lightning, seed_everything  # Lightning: only when training

        with quiet_lightning():
            cfg, dataset = self.resolve_config(replace(cfg, family=self.name))
            self.check(cfg)
            data = self.load_data(cfg, dataset)
            cfg, collate = self.prepare(cfg, data)
            splits = self.make_splits(cfg, data)
            run_dir = common.run_directory(cfg, resume=resume)
            cfg = replace(cfg, output=str(run_dir))
            paths = run_paths(run_dir)
            if common.is_rank_zero():
                cfg.save(paths["config"])
                write_json(paths["splits"], self._splits_record(cfg, data, splits))
            shared = self.callbacks()
            callbacks = [*(extra_callbacks or []), *shared]
            multi = len(splits) > 1 or cfg.trainer.ensemble_size > 1
            outcomes, predictors, ensemble_metrics = [], [], None
            for fold, split in enumerate(splits):
                member_preds = []
                for member in range(cfg.trainer.ensemble_size):
                    seed = cfg.trainer.seed + member
                    seed_everything(seed)
                    task = build_task(
                        resolved(cfg.task.type, "task.type"),
                        data.target_names,
                        metrics=cfg.task.metrics,
                        n_classes=cfg.task.n_classes,
                        train_targets=data.targets[split.train],
                    )
                    predictor = self.build_predictor(cfg, task, data, split)
                    tag = f"fold_{fold}/member_{member}" if multi else ""
                    outcomes.append(
                        self.fit_member(
                            cfg,
                            predictor,
                            collate,
                            split,
                            seed=seed,
                            tag=tag,
                            run_dir=run_dir,
                            callbacks=callbacks,
                            resume=resume,
                            test=test,
                        )
                    )
                    predictors.append(predictor)
                    if test and cfg.trainer.ensemble_size > 1:
                        member_preds.append(self.predict_rows(cfg, predictor, collate, split.test))
                if member_preds and len(splits) == 1:
                    truth = torch.as_tensor(data.targets[split.test])
                    ensemble_metrics = task.evaluate(torch.stack(member_preds).mean(0), truth, "test")
            metrics = {"val": common.aggregate([o.val for o in outcomes])}
            if test:
                metrics["test"] = common.aggregate([o.test for o in outcomes])
                if ensemble_metrics is not None:
                    metrics["test_ensemble"] = ensemble_metrics
            stopped = [
                {"fold": i // (n := cfg.trainer.ensemble_size), "member": i % n, **o.stopped}
                for i, o in enumerate(outcomes)
            ]
            if common.is_rank_zero():
                write_json(paths["metrics"], {**metrics, "stopped": stopped})
                if export:
                    spec = common.model_spec(
                        cfg,
                        dataset,
                        metrics,
                        **self.spec_fields(cfg),
                        model=section_dict(cfg.model),
                        task=predictors[0].task.describe(),
                    )
                    spec.trained_on["stopped"] = stopped
                    export_model(paths["model"], predictors, spec, self.model_card(spec, cfg, metrics))
        details = {
            "epochs": [o.epochs for o in outcomes],
            "best_checkpoints": [o.best_checkpoint for o in outcomes],
            "stopped": stopped,
        }
        return common.RunResult(
            run_dir=run_dir,
            metrics=metrics,
            config=cfg,
            n_invalid=len(data.invalid),
            details={**details, **self.details(cfg, shared)},
        )

    def _splits_record(self, cfg: RunConfig, data: LabelledData, splits: list[Split]) -> dict[str, Any]:
        rows = data.valid_index
        folds = [{part: rows[getattr(split, part)].tolist() for part in ("train", "val", "test")} for split in splits]
        return common.splits_record(
            resolved(cfg.data.split, "data.split"),
            cfg.trainer.seed,
            folds,
            [bad.index for bad in data.invalid],
            self.rows,
            sizes=cfg.data.split_sizes,
            n_folds=len(splits),
        )

    # --- exported models ------------------------------------------------------------------------------
    def build_from_spec(self, spec: ModelSpec, task: Task) -> Predictor:
        """An untrained predictor of the exported architecture."""
        raise NotImplementedError

    def load_predictors(self, spec: ModelSpec, states: list[dict[str, torch.Tensor]]) -> list[Predictor]:
        """Rebuilds exported members from ``model.yaml`` and their weights (strict key match)."""
        assert spec.task is not None
        members = []
        for state in states:
            task = build_task(
                spec.task.type,
                spec.task.targets,
                metrics=spec.task.metrics,
                n_classes=spec.task.n_classes,
                state=spec.task.state(),
            )
            predictor = self.build_from_spec(spec, task)
            predictor.load_state_dict(state, strict=True)
            predictor.eval()
            members.append(predictor)
        return members


def section_dict(section: Any) -> dict[str, Any]:
    """A config section as primitives (a pydantic model or a dataclass)."""
    if hasattr(section, "model_dump"):
        return section.model_dump()
    import dataclasses

    return dataclasses.asdict(section)


def with_head(encoder: torch.nn.Module, task: Task, model: GraphModelConfig | DnaConvModelConfig) -> Predictor:
    """``encoder`` (with an ``out_dim``) topped with the feed-forward head the model section sizes
    (``ffn_hidden_dim``, ``ffn_layers``, ``dropout``) for ``task``."""
    head = PredictionHead(
        cast(int, encoder.out_dim),
        task.output_dim,
        hidden_dim=model.ffn_hidden_dim,
        n_layers=model.ffn_layers,
        dropout=model.dropout,
    )
    return Predictor(encoder, head, task)
