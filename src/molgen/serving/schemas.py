"""Request and response bodies of the API (pydantic v2): FastAPI validates with them and writes the OpenAPI
schema from them. Items are open: every column of the library's prediction table (``<target>``, ``_std``,
intervals, applicability domain …) becomes a key, so new columns reach clients without server changes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PredictRequest(_Closed):
    """Exactly one of ``smiles`` (property models) or ``sequences`` (DNA models)."""

    smiles: list[str] | None = Field(None, description="SMILES, one item each")
    sequences: list[str] | None = Field(None, description="DNA sequences (ACGTN), one item each")

    @model_validator(mode="after")
    def _one_input(self) -> PredictRequest:
        if (self.smiles is None) == (self.sequences is None):
            raise ValueError("give exactly one of 'smiles' or 'sequences'")
        return self

    @property
    def inputs(self) -> list[str]:
        return self.smiles if self.smiles is not None else (self.sequences or [])


class Item(BaseModel):
    """One result per input, in order: ``valid``, ``reason`` (why not valid) and the model's columns."""

    model_config = ConfigDict(extra="allow")

    valid: bool
    reason: str | None = None


class ItemsResponse(BaseModel):
    model: str
    items: list[Item]


class GenerateRequest(_Closed):
    n: int = Field(100, ge=1, description="molecules to sample (at most the server's --max-generate)")
    seed: int | None = Field(None, ge=0, le=2**32 - 1, description="same seed, same molecules")
    temperature: float | None = Field(None, gt=0, le=10, description="sampling temperature (token generators)")
    objective: Literal["qed", "logp", "sa", "mw"] | None = Field(
        None, description="optimize this RDKit score in the latent space (latent generators: VAE, LatentGAN)"
    )
    direction: Literal["auto", "maximize", "minimize"] = "auto"
    rounds: int = Field(5, ge=1, le=50, description="objective: optimization rounds")


class GeneratedItem(BaseModel):
    smiles: str
    valid: bool
    score: float | None = None


class GenerateResponse(BaseModel):
    model: str
    items: list[GeneratedItem]
    summary: dict[str, Any] | None = Field(None, description="objective: statistics before and after")


class Variant(_Closed):
    sequence_id: str = Field(description="key of 'sequences'")
    position: int = Field(ge=1, description="1-based position in the sequence")
    ref: str = Field(min_length=1, max_length=1000)
    alt: str = Field(min_length=1, max_length=1000)
    variant_id: str | None = None


class VariantEffectRequest(_Closed):
    """Variants on sequences given inline (no reference genome or file paths are read from clients)."""

    sequences: dict[str, str] = Field(description="sequence id → DNA sequence")
    variants: list[Variant]


class AttributeRequest(_Closed):
    sequences: list[str]
    target: str | None = Field(None, description="target to explain (default: the model's first)")
    method: Literal["ism", "gradxinput"] = "gradxinput"


class ModelInfo(BaseModel):
    name: str
    family: str
    input: str | None = Field(description="smiles | dna | None (generators)")
    targets: list[str]
    endpoints: list[str]
    spec: dict[str, Any] = Field(description="model.yaml (plain values)")
    card: str = Field(description="the model card (README.md, Markdown)")
    precision: str = Field(description="inference precision of its predictions: 32 | bf16-mixed")


class ModelsResponse(BaseModel):
    models: list[ModelInfo]


class ErrorResponse(BaseModel):
    detail: Any
