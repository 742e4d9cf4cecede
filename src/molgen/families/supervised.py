"""The supervised loop, written once: split → datamodule → trainer → evaluate → ensemble/folds → export.

A supervised family (property, expression, …) subclasses :class:`SupervisedFamily` and supplies only
what differs: reading and checking its data, encoding it for a collate, building a predictor, its
datamodule and the input side of its model spec. The loop owns the run folder, the members of every
fold, the aggregated metrics, ``splits.json``, ``metrics.json``, ``predictions/`` and the export.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

import numpy as np
import pandas as pd
import torch

from molgen.config import DnaConvModelConfig, FingerprintModelConfig, GraphModelConfig, RunConfig, replace, resolved
from molgen.data.catalog import DatasetSpec
from molgen.data.labels import UNLABELLED_REASON, Labels, check_and_split
from molgen.data.splits import Split, kfold_splits, make_split, predefined_groups, splits_record
from molgen.data.summary import data_summary
from molgen.errors import ConfigError, InvalidInputError, ModelFormatError
from molgen.evaluation.supervised import aggregate, higher_is_better, record_skipped
from molgen.families import common
from molgen.models.heads import PredictionHead
from molgen.training import predictive as uq
from molgen.training.artifacts import ModelSpec, export_model, load_state, model_spec, run_paths, write_json
from molgen.training.prediction_tables import FoldPredictions, kept_table, write_predictions
from molgen.training.predictor import Predictor
from molgen.training.privacy import check_private, private_training
from molgen.training.run_folder import default_output, is_rank_zero, open_run_folder
from molgen.training.tasks import Task, build_task

if TYPE_CHECKING:
    from molgen.training.trainer import FitOutcome

log = logging.getLogger("molgen")


class LabelledData(Protocol):
    """What the loop needs of a family's data: labels of the valid rows and which input rows they are."""

    targets: np.ndarray  # [n_valid, T]
    target_names: list[str]
    source: str  # the input, for messages

    @property
    def frame(self) -> pd.DataFrame: ...  # the input table, one row per data row

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
    private_models: tuple[str, ...] = ()
    """The models that train with DP-SGD (``--dp-epsilon``): Opacus computes their per-example gradients."""
    private_refusal = "Opacus cannot compute its per-example gradients"
    """Why the other models do not (the ConfigError's reason)."""

    # --- hooks ---------------------------------------------------------------------------------------
    def resolve_config(self, cfg: RunConfig) -> tuple[RunConfig, DatasetSpec | None]:
        raise NotImplementedError

    def load_data(self, cfg: RunConfig, spec: DatasetSpec | None) -> Any:
        raise NotImplementedError

    def prepare(self, cfg: RunConfig, data: Any) -> tuple[RunConfig, Any]:
        """``(cfg with data-derived options set, collate over the valid rows)``."""
        raise NotImplementedError

    def split_smiles(self, data: Any) -> list[str] | None:
        """SMILES of the valid rows for scaffold splits (None: the family has no molecules)."""
        return None

    def build_predictor(self, cfg: RunConfig, task: Task, data: Any, split: Split) -> Predictor:
        raise NotImplementedError

    def datamodule(self, cfg: RunConfig, collate: Any, split: Split, seed: int) -> Any:
        raise NotImplementedError

    def predict_rows(self, cfg: RunConfig, predictor: Predictor, collate: Any, rows: np.ndarray) -> torch.Tensor:
        """Predictions of one member for rows of the collate (the ensemble's test metrics)."""
        return predictor.predict_rows(collate, rows)

    def uncertainty_methods(self, cfg: RunConfig) -> tuple[str, ...]:
        """The ``--uncertainty`` methods this family (and model) can give."""
        return uq.METHODS

    def predict_samples(self, cfg: RunConfig, predictor: Predictor, collate: Any, rows: np.ndarray) -> uq.Samples:
        """One member's samples for rows of the collate (see :mod:`molgen.training.predictive`): the task's
        ``predict_dist`` (with MC-dropout passes for ``dropout``), or :meth:`predict_rows` as one sample."""
        if cfg.uncertainty.method in ("mve", "evidential", "dropout") or uq.task_head(cfg):
            mc = cfg.uncertainty.mc_samples if cfg.uncertainty.method == "dropout" else 0
            return uq.to_numpy(predictor.predict_samples(collate, rows, mc_samples=mc))
        return {"mean": self.predict_rows(cfg, predictor, collate, rows).float().numpy()[None]}

    def spec_fields(self, cfg: RunConfig) -> dict[str, Any]:
        """The input side of ``model.yaml`` (``input``, ``featurizer`` …)."""
        raise NotImplementedError

    def model_card(self, spec: ModelSpec, cfg: RunConfig, metrics: dict[str, dict[str, float]]) -> str:
        raise NotImplementedError

    def row_inputs(self, data: Any) -> tuple[str, list[str]] | None:
        """``(column, value per valid row)`` naming each row's input in ``predictions/*.csv`` (None: no column)."""
        return None

    def describe_row(self, data: Any, position: int) -> str:
        """Where valid row ``position`` came from, for messages (default: its 0-based data row)."""
        return f"data row {int(data.valid_index[position])}"

    def applicability_domain(self, cfg: RunConfig, data: Any, splits: list[Split]) -> Any:
        """The family's applicability domain (``chem.domain.TrainingDomain``), or None (the default)."""
        return None

    def callbacks(self) -> list[Any]:
        """Callbacks shared by every member of one fit (e.g. a throughput meter)."""
        return []

    def details(self, cfg: RunConfig, callbacks: list[Any]) -> dict[str, Any]:
        """Extras for ``RunResult.details``."""
        return {}

    def check(self, cfg: RunConfig) -> None:
        """Refuses option combinations the family cannot run, before any training."""

    def member_task(self, cfg: RunConfig, data: LabelledData, split: Split) -> Task:
        """The task of one member: targets, metrics and classes of ``data``, target scaling from ``split.train``,
        the uncertainty head the config asks for."""
        return build_task(
            resolved(cfg.task.type, "task.type"),
            data.target_names,
            metrics=cfg.task.metrics,
            n_classes=cfg.task.n_classes,
            train_targets=data.targets[split.train],
            classes=getattr(data, "classes", None),
            head=uq.task_head(cfg),
        )

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
        private = private_training(cfg, predictor, len(split.train), seed)
        module = SupervisedModule(predictor.encoder, predictor.head, predictor.task, cfg.optim, privacy=private)
        trainer = build_trainer(
            cfg.trainer, run_dir, monitor=f"val/{monitor}", mode=mode, extra_callbacks=callbacks, tag=tag
        )
        datamodule = self.datamodule(cfg, collate, split, seed)
        datamodule.private = private
        outcome = run(module, datamodule, trainer, resume=resume, test=test)
        if private is not None:
            private.close()
            outcome.privacy = private.record()
            log.info(
                "DP-SGD: ε = %.3f spent (δ = %.3g) over %d steps (target ε %s over %d steps)",
                outcome.privacy["epsilon"],
                private.delta,
                outcome.privacy["steps"],
                private.epsilon,
                outcome.privacy["planned_steps"],
            )
        return outcome

    # --- the loop -------------------------------------------------------------------------------------
    def fit(
        self,
        cfg: RunConfig,
        *,
        resume: bool = False,
        overwrite: bool = False,
        extra_callbacks: list[Any] | None = None,
        export: bool = True,
        test: bool = True,
    ) -> common.RunResult:
        """Trains every fold × ensemble member, writes the run folder and exports the model.

        Args:
            resume: continue each member from its ``last.ckpt`` in an existing run folder (exact or refused).
            overwrite: replace the run in a folder that holds one (else a non-empty folder is refused).
            extra_callbacks: added to every trainer (e.g. Optuna pruning).
            export: write ``model/``; test: score on the test split.
        """
        from molgen.training.trainer import quiet_lightning, seed_everything  # Lightning: only when training

        with quiet_lightning(), record_skipped() as skipped, ExitStack() as folder:  # the folder stays locked
            cfg, dataset = self.resolve_config(replace(cfg, family=self.name))
            self.check(cfg)
            cfg = uq.resolve(cfg, self.uncertainty_methods(cfg), f"the {cfg.model.name} {self.name} model")
            check_private(cfg, resume, family=self.name, models=self.private_models, refusal=self.private_refusal)
            data = self.load_data(cfg, dataset)
            cfg, collate = self.prepare(cfg, data)
            labels = self._labelled_splits(cfg, data)
            splits = labels.splits
            calibrating = cfg.uncertainty.calibration != "none"
            held = np.zeros(0, dtype=np.int64)  # calibration rows (positions among the valid rows)
            if calibrating:
                by_scaffold = self.split_smiles(data) if cfg.data.split == "scaffold" else None
                fraction, seed = cfg.uncertainty.calibration_fraction, cfg.trainer.seed
                split, held = uq.carve_calibration(splits[0], fraction, seed, by_scaffold)
                splits = [split]
            cfg = replace(cfg, output=str(default_output(cfg)))
            record = self._splits_record(cfg, data, splits, labels.unlabelled)
            if calibrating:
                record["calibration"] = data.valid_index[held].tolist()
                record["folds"][0]["calibration"] = record["calibration"]
            run_dir = folder.enter_context(open_run_folder(cfg, record, resume=resume, overwrite=overwrite))
            paths = run_paths(run_dir)
            shared = self.callbacks()
            callbacks = [*(extra_callbacks or []), *shared]
            multi = len(splits) > 1 or cfg.trainer.ensemble_size > 1
            outcomes, predictors, ensemble_metrics, kept = [], [], None, []
            uq_columns: list[dict[str, np.ndarray]] = []
            uq_metrics: dict[str, float] = {}
            calibration: dict[str, Any] | None = None
            for fold, split in enumerate(splits):
                member_preds, test_samples, held_samples = [], [], []
                for member in range(cfg.trainer.ensemble_size):
                    seed = cfg.trainer.seed + member
                    seed_everything(seed)
                    task = self.member_task(cfg, data, split)
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
                    if calibrating:
                        held_samples.append(self.predict_samples(cfg, predictor, collate, held))
                    if test and uq.active(cfg):
                        test_samples.append(self.predict_samples(cfg, predictor, collate, split.test))
                    elif test:
                        member_preds.append(self.predict_rows(cfg, predictor, collate, split.test))
                if held_samples or test_samples:
                    fold_uq = uq.fold_uncertainty(
                        cfg,
                        task.kind,
                        data.target_names,
                        getattr(data, "classes", None),
                        held=(held_samples, data.targets[held]),
                        test=(test_samples, data.targets[split.test] if len(splits) == 1 else None),
                    )
                    calibration = fold_uq.calibration or calibration
                    if fold_uq.mean is not None:
                        uq_columns.append(fold_uq.columns)
                        uq_metrics = fold_uq.metrics or uq_metrics
                        member_preds = list(torch.as_tensor(fold_uq.mean))
                if member_preds:
                    kept.append(FoldPredictions(split.test, torch.stack(member_preds).numpy()))
                if len(member_preds) > 1 and cfg.trainer.ensemble_size > 1 and len(splits) == 1:
                    truth = torch.as_tensor(data.targets[split.test])
                    ensemble_metrics = task.evaluate(torch.stack(member_preds).mean(0), truth, "test")
            metrics = {"val": aggregate([o.val for o in outcomes])}
            if test:
                metrics["test"] = aggregate([o.test for o in outcomes])
                if ensemble_metrics is not None:
                    metrics["test_ensemble"] = ensemble_metrics
                metrics["test"].update(uq_metrics)
            stopped = [
                {"fold": i // (n := cfg.trainer.ensemble_size), "member": i % n, **o.stopped}
                for i, o in enumerate(outcomes)
            ]
            if is_rank_zero():
                domain = self.applicability_domain(cfg, data, splits) if test else None
                record = {**metrics, **labels.record(data.target_names), "stopped": stopped}
                record["data_summary"] = data_summary(
                    len(data.frame), data.invalid, data.valid_index[labels.unlabelled], splits, self.split_smiles(data)
                )
                if domain is not None:
                    record["applicability_domain"] = domain.record()
                privacy = outcomes[0].privacy if outcomes else None
                if privacy is not None:
                    record["privacy"] = privacy
                write_json(paths["metrics"], {**record, "skipped": skipped} if skipped else record)
                if kept:
                    extra = {k: np.concatenate([c[k] for c in uq_columns]) for k in uq_columns[0]} if uq_columns else {}
                    self._keep_predictions(run_dir, data, kept, predictors[0].task.kind, extra, domain)
                if export:
                    spec = model_spec(
                        cfg,
                        dataset,
                        metrics,
                        **self.spec_fields(cfg),
                        model=cfg.model.model_dump(),
                        task=predictors[0].task.describe(),
                        **({"uncertainty": uq.spec_section(cfg)} if uq.active(cfg) else {}),
                        **({"calibration": calibration} if calibration else {}),
                        applicability_domain=None if domain is None else domain.spec(),
                        privacy=privacy,
                    )
                    spec.trained_on["stopped"] = stopped
                    card = self.model_card(spec, cfg, metrics)
                    arrays = None if domain is None else domain.arrays()
                    export_model(paths["model"], predictors, spec, card, arrays=arrays)
        details = {
            "missing_targets": labels.missing,
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

    def site_splits(self, cfg: RunConfig, data: LabelledData) -> tuple[Labels, dict[str, Any]]:
        """The labelled splits of ``data`` and their ``splits.json`` record, as :meth:`fit` makes them (what a
        federated site, :mod:`molgen.federated`, trains and evaluates on)."""
        labels = self._labelled_splits(cfg, data)
        return labels, self._splits_record(cfg, data, labels.splits, labels.unlabelled)

    def _labelled_splits(self, cfg: RunConfig, data: LabelledData) -> Labels:
        """The family's splits without the rows that have no target value; missing values counted and logged."""
        return check_and_split(
            data.targets,
            data.target_names,
            self.make_splits(cfg, data),
            source=str(cfg.data.name),
            describe_row=lambda i: self.describe_row(data, i),
        )

    def _keep_predictions(
        self,
        run_dir: Path,
        data: LabelledData,
        folds: list[FoldPredictions],
        task_type: str,
        extra: dict[str, np.ndarray],
        domain: Any = None,
    ) -> None:
        """Writes ``predictions/test.csv`` (and ``oof.csv`` with several folds); ``extra``: more columns (the
        uncertainty columns), one value per predicted row in fold order; the applicability-domain columns when
        the family has a ``domain``."""
        table = kept_table(
            folds,
            rows=data.valid_index,
            targets=data.targets,
            target_names=data.target_names,
            task_type=task_type,
            inputs=self.row_inputs(data),
            columns=None if domain is None else domain.position_columns(),
        )
        for name, values in extra.items():
            table[name] = values
        write_predictions(run_dir / "predictions", table, k_fold=len(folds) > 1)

    def _splits_record(
        self, cfg: RunConfig, data: LabelledData, splits: list[Split], unlabelled: np.ndarray
    ) -> dict[str, Any]:
        rows = data.valid_index
        folds = [{part: rows[getattr(split, part)].tolist() for part in ("train", "val", "test")} for split in splits]
        return splits_record(
            resolved(cfg.data.split, "data.split"),
            cfg.trainer.seed,
            folds,
            [bad.index for bad in data.invalid],
            self.rows,
            sizes=cfg.data.split_sizes,
            n_folds=len(splits),
            unlabelled_rows=rows[unlabelled].tolist(),
            unlabelled_reason=UNLABELLED_REASON,
        )

    def make_splits(self, cfg: RunConfig, data: LabelledData) -> list[Split]:
        """One split or one per fold; indices are positions among the valid rows."""
        n, kind, seed = len(data.targets), resolved(cfg.data.split, "data.split"), cfg.trainer.seed
        smiles = self.split_smiles(data)
        if kind == "scaffold" and smiles is None:
            raise InvalidInputError(
                f"scaffold splits need molecules; use random, stratified or predefined for {self.name}"
            )
        labels = data.targets[:, 0] if kind == "stratified" else None
        if cfg.data.n_folds > 1:
            if kind == "predefined":
                raise ConfigError("a predefined split cannot be combined with n_folds > 1")
            return kfold_splits(kind, n, cfg.data.n_folds, seed=seed, smiles=smiles, labels=labels)
        groups = (
            predefined_groups(data.frame, cfg.data.split_column, data.valid_index, data.source)
            if kind == "predefined"
            else None
        )
        split = make_split(
            kind, n, sizes=tuple(cfg.data.split_sizes), seed=seed, smiles=smiles, labels=labels, groups=groups
        )
        return [split]

    # --- exported models ------------------------------------------------------------------------------
    def build_from_spec(self, spec: ModelSpec, task: Task) -> Predictor:
        """An untrained predictor of the exported architecture."""
        raise NotImplementedError

    def load_predictors(self, spec: ModelSpec, states: list[dict[str, torch.Tensor]]) -> list[Predictor]:
        """Rebuilds exported members from ``model.yaml`` and their weights (strict key match)."""
        spec_task = spec.section("task")
        spec.section("model")
        members = []
        for state in states:
            try:
                task = build_task(
                    spec_task.type,
                    spec_task.targets,
                    metrics=spec_task.metrics,
                    n_classes=spec_task.n_classes,
                    state=spec_task.state(),
                )
                predictor = self.build_from_spec(spec, task)
            except ConfigError as err:  # an unknown or bad key under task: or model: in model.yaml
                raise ModelFormatError(f"{spec.source}: {err}") from None
            if spec.privacy and spec.privacy.get("replaced_layers"):  # trained with Opacus's replacements
                from molgen.training.privacy import fix_predictor

                fix_predictor(predictor)
            load_state(predictor, state, spec.source)
            predictor.eval()
            members.append(predictor)
        return members


def with_head(
    encoder: torch.nn.Module, task: Task, model: GraphModelConfig | DnaConvModelConfig | FingerprintModelConfig
) -> Predictor:
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
