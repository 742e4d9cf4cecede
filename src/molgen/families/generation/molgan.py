"""MolGAN recipe: QM9-sized SMILES → dense graphs → WGAN-GP (+ optional reward network) → graph sampler.

Sizes come from the config: the generator MLP has ``model.depth`` layers doubling up to ``model.hidden_dim``
(512, depth 3 → [128, 256, 512] as in the paper); the critic (and reward network) has R-GCN layers
``[c, c/2]``, a ``c``-wide graph aggregation and an MLP ``[c, c/2]`` with ``c = hidden_dim / 4`` (paper: 128).
The noise is ``model.noise_dim`` wide (default 32, the paper's).

Training molecules with more than ``model.max_atoms`` heavy atoms, other elements than
``model.atom_types``, charges or radicals are reported (with their data rows), counted and skipped.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch

from molgen.chem.featurize.dense_graphs import (
    DenseGraphs,
    DenseGraphSpec,
    decode_graphs,
    encode_smiles,
)
from molgen.config import MolGANConfig, RunConfig, model_section
from molgen.errors import ConfigError, InvalidInputError
from molgen.families.base import register_generator
from molgen.models.generative.molgan import GUMBEL_MODES, MolGANSampler, build_networks, network_sizes
from molgen.training.artifacts import ModelSpec

log = logging.getLogger("molgen")
NAME = "molgan"


def encode_split(smiles: list[str], rows: list[int], graph_spec: DenseGraphSpec, subset: str) -> DenseGraphs:
    """Dense graphs of one subset; unrepresentable molecules are logged with their data rows and skipped."""
    graphs = encode_smiles(smiles, graph_spec)
    if graphs.skipped:
        lines = [
            f"  data row {rows[s.index] if s.index < len(rows) else s.index}: {s.smiles!r}: {s.reason}"
            for s in graphs.skipped
        ]
        shown = "\n".join(lines[:20]) + (f"\n  … and {len(lines) - 20} more" if len(lines) > 20 else "")
        log.warning(
            "MolGAN: %d of %d %s molecule(s) cannot be represented and are skipped:\n%s",
            len(lines),
            len(smiles),
            subset,
            shown,
        )
    return graphs


def train(cfg: RunConfig, data: Any, run_dir: Path, *, resume: bool = False, callbacks: list | None = None) -> Any:
    """Trains MolGAN on ``data.train`` (validation sampling and ``val/wasserstein`` on ``data.val``)."""
    from molgen.families.generation.family import TrainedGenerator
    from molgen.families.generation.gan import fit_gan, wgan_options
    from molgen.training.gan import MONITOR, MolGANModule

    gen = model_section(cfg, MolGANConfig)
    if gen.gumbel not in GUMBEL_MODES:
        raise ConfigError(f"unknown model.gumbel {gen.gumbel!r}; valid names: {', '.join(GUMBEL_MODES)}")
    if gen.reward_weight and gen.reward is None:
        raise ConfigError("model.reward_weight > 0 needs model.reward (qed | logp | sa)")
    graph_spec = DenseGraphSpec(max_atoms=gen.max_atoms, atom_types=tuple(gen.atom_types))
    decode = functools.partial(decode_graphs, spec=graph_spec)
    train_graphs = encode_split(data.train, data.train_rows, graph_spec, "training")
    val_graphs = encode_split(data.val, data.val_rows, graph_spec, "validation")
    if len(train_graphs) == 0:
        raise InvalidInputError(
            f"MolGAN: none of the {len(data.train)} training molecules fits max_atoms={gen.max_atoms} and "
            f"atom_types={gen.atom_types}; raise model.max_atoms or add elements"
        )
    from molgen.chem.scores import reward_scores

    score = reward_scores(gen.reward) if gen.reward else None

    def tensors(graphs: DenseGraphs) -> list[torch.Tensor]:
        rewards = score(graphs.smiles) if score is not None else np.zeros(len(graphs), dtype=np.float32)
        return [torch.as_tensor(graphs.atoms), torch.as_tensor(graphs.bonds), torch.as_tensor(rewards)]

    sizes = network_sizes(gen.hidden_dim, gen.depth, gen.noise_dim, gen.dropout)
    networks = build_networks(graph_spec, sizes, reward=gen.reward is not None)
    module = MolGANModule(
        networks.generator,
        networks.critic,
        decode,
        reward_net=networks.reward_net,
        score=score,
        reward_weight=gen.reward_weight,
        gumbel=gen.gumbel,
        train_smiles=set(train_graphs.smiles),
        **wgan_options(cfg, gen),
    )
    outcome = fit_gan(
        module, tensors(train_graphs), tensors(val_graphs), cfg, run_dir, resume=resume, callbacks=callbacks
    )
    spec = {
        "generator": NAME,
        "graphs": graph_spec.to_dict(),
        "sizes": sizes,
        "reward": gen.reward,
        "monitor": MONITOR,
    }
    return TrainedGenerator(
        module=networks,
        spec=spec,
        val=outcome.val,
        generator=MolGANSampler(networks.generator, decode),
        details={
            "epochs": outcome.epochs,
            "stopped": [outcome.stopped],
            "best_checkpoint": outcome.best_checkpoint,
            "n_train_graphs": len(train_graphs),
            "n_skipped": len(train_graphs.skipped) + len(val_graphs.skipped),
        },
    )


def load(model_dir: Path, spec: ModelSpec) -> MolGANSampler:
    """The sampler of an exported MolGAN (weights from ``model.safetensors``)."""
    from molgen.training.artifacts import read_weights, spec_field

    graph_spec = DenseGraphSpec.from_dict(spec_field(spec, "graphs"))
    networks = build_networks(graph_spec, spec_field(spec, "sizes"), reward=getattr(spec, "reward", None) is not None)
    networks.load_state_dict(read_weights(model_dir))
    return MolGANSampler(networks.generator, functools.partial(decode_graphs, spec=graph_spec))


@register_generator("molgan")
class MolGANRecipe:
    train = staticmethod(train)
    load = staticmethod(load)
