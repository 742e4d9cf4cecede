"""Transcription-factor motifs: MEME / JASPAR files (Bio.motifs) and a vectorized log-odds scanner.

A motif is a position probability matrix ``pwm`` of shape ``[4, W]`` (rows ``A C G T``). Scanning scores
every window of a one-hot sequence against every motif's log-odds matrix on both strands in one numpy
pass per motif width, and turns each score into a p-value (the chance a random background sequence of
the motif's width scores at least as high), computed exactly on a score grid as FIMO does. Ranking by
p-value rather than by raw score keeps long motifs from winning just because they are long.

The JASPAR 2024 CORE file is read from ``$MOLGEN_DATA_DIR/motifs/jaspar2024_core_latest_versions.meme``
unless a path is given. MEME files carry no taxon: JASPAR's ``tax_group`` (plants, vertebrates, fungi, …)
comes from the metadata table next to the MEME file (same name, ``.tsv``, columns ``motif_id`` and
``tax_group``), which :func:`load_motifs` reads when asked for a taxon.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from molgen.errors import DataSourceError, InvalidInputError
from molgen.genomics.encoding import one_hot

ALPHABET = "ACGT"
JASPAR_FILE = "motifs/jaspar2024_core_latest_versions.meme"
UNIFORM = (0.25, 0.25, 0.25, 0.25)

__all__ = [
    "Motif",
    "MotifScanner",
    "default_motif_file",
    "encode",
    "load_motifs",
    "motif_taxa",
    "parse_meme",
    "select_taxon",
]


@dataclasses.dataclass(frozen=True, eq=False)
class Motif:
    """One motif: ``id`` (``MA0139.2``), ``name`` (``CTCF``) and probabilities ``pwm`` ``[4, W]``."""

    id: str
    name: str
    pwm: np.ndarray

    def __post_init__(self) -> None:
        pwm = np.asarray(self.pwm, dtype=np.float64)
        if pwm.ndim != 2 or pwm.shape[0] != 4 or pwm.shape[1] == 0:
            raise ValueError(f"motif {self.id}: expected a [4, W] matrix, got shape {pwm.shape}")
        if (pwm < 0).any():
            raise ValueError(f"motif {self.id}: negative probabilities")
        sums = pwm.sum(axis=0, keepdims=True)
        if (sums <= 0).any():
            raise ValueError(f"motif {self.id}: a column has no probability mass")
        object.__setattr__(self, "pwm", pwm / sums)

    @property
    def width(self) -> int:
        return int(self.pwm.shape[1])

    @property
    def consensus(self) -> str:
        return "".join(ALPHABET[i] for i in self.pwm.argmax(axis=0))

    def log_odds(self, background: Sequence[float] | np.ndarray = UNIFORM, pseudocount: float = 0.01) -> np.ndarray:
        """``log2((p + c·b) / (1 + c) / b)`` per base and column, ``[4, W]``."""
        bg = np.asarray(background, dtype=np.float64)[:, None]
        return np.log2((self.pwm + pseudocount * bg) / (1.0 + pseudocount) / bg)

    def __repr__(self) -> str:
        return f"Motif(id={self.id!r}, name={self.name!r}, width={self.width})"


def default_motif_file() -> Path:
    """The JASPAR 2024 CORE MEME file in ``$MOLGEN_DATA_DIR``; a clear error when it is not there."""
    root = os.environ.get("MOLGEN_DATA_DIR")
    if not root:
        raise DataSourceError(
            "no motif file: set MOLGEN_DATA_DIR to the data mirror (it holds "
            f"{JASPAR_FILE}) or pass a MEME file with --motifs FILE.meme"
        )
    path = Path(root) / JASPAR_FILE
    if not path.is_file():
        raise DataSourceError(
            f"motif file {path} not found: MOLGEN_DATA_DIR should hold {JASPAR_FILE} "
            "(JASPAR 2024 CORE, MEME format), or pass a MEME file with --motifs FILE.meme"
        )
    return path


def load_motifs(path: str | Path | None = None, *, taxon: str | None = None) -> list[Motif]:
    """Motifs from a MEME (minimal) file, by default JASPAR 2024 CORE from the data mirror.

    Args:
        taxon: keep only motifs of this JASPAR ``tax_group`` (or several, comma-separated), looked up
            in the metadata table next to the file (:func:`motif_taxa`).
    """
    path = default_motif_file() if path is None else Path(path)
    if not path.is_file():
        raise DataSourceError(f"motif file {path} not found (expected a MEME motif file)")
    motifs = parse_meme(path.read_text())
    return motifs if taxon is None else select_taxon(motifs, motif_taxa(path), taxon)


def taxa_file(meme_path: str | Path) -> Path:
    """The JASPAR metadata table of a MEME file: the same path with ``.tsv``."""
    return Path(meme_path).with_suffix(".tsv")


def motif_taxa(meme_path: str | Path) -> dict[str, str]:
    """``motif_id → tax_group`` from the ``.tsv`` next to ``meme_path`` (JASPAR's MATRIX_ANNOTATION table)."""
    path = taxa_file(meme_path)
    if not path.is_file():
        raise DataSourceError(
            f"a motif taxon needs {path}: a tab-separated table with columns motif_id and tax_group next to "
            f"{Path(meme_path).name} (MEME files carry no taxon)"
        )
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        missing = {"motif_id", "tax_group"} - set(reader.fieldnames or ())
        if missing:
            raise InvalidInputError(f"{path}: no column {', '.join(sorted(missing))} (columns: {reader.fieldnames})")
        return {row["motif_id"].strip(): (row["tax_group"] or "").strip().lower() for row in reader}


def select_taxon(motifs: Sequence[Motif], taxa: dict[str, str], taxon: str) -> list[Motif]:
    """The motifs whose ``tax_group`` is ``taxon`` (case-insensitive; ``plants,fungi`` for several).

    Raises:
        InvalidInputError: a taxon no motif has; the message lists the taxa present, with counts.
    """
    wanted = [t.strip().lower() for t in taxon.split(",") if t.strip()]
    counts = Counter(taxa.get(m.id, "") for m in motifs)
    unknown = [t for t in wanted if not counts.get(t)]
    if not wanted or unknown:
        valid = ", ".join(f"{name} ({n})" for name, n in sorted(counts.items()) if name)
        raise InvalidInputError(f"unknown motif taxon {', '.join(unknown) or repr(taxon)}; valid: {valid}")
    return [m for m in motifs if taxa.get(m.id, "") in wanted]


_MOTIF_LINE = re.compile(r"^MOTIF[ \t]+(\S+)(?:[ \t]+(\S+))?", re.MULTILINE)


def parse_meme(text: str) -> list[Motif]:
    """Motifs from MEME minimal-format text (what JASPAR distributes); ``name`` is the MOTIF line's
    second word (the factor) or the id when there is none."""
    from Bio import motifs as bio_motifs

    headers = _MOTIF_LINE.findall(text)
    if not headers:
        raise InvalidInputError("no motifs found: expected MEME format with 'MOTIF <id> [name]' lines")
    try:
        parsed = bio_motifs.parse(io.StringIO(text), "minimal")
    except Exception as err:  # Bio raises bare ValueErrors/RuntimeErrors with terse messages
        raise InvalidInputError(f"could not parse the MEME motif file: {err}") from err
    if len(parsed) != len(headers):
        raise InvalidInputError(f"MEME file: {len(headers)} MOTIF lines but {len(parsed)} matrices parsed")
    out = []
    for (motif_id, name), record in zip(headers, parsed):
        pwm = np.array([record.pwm[base] for base in ALPHABET], dtype=np.float64)
        out.append(Motif(motif_id, name or motif_id, pwm))
    return out


def encode(seq: str) -> np.ndarray:
    """``float64 [4, L]`` one-hot for scanning (:func:`molgen.genomics.encoding.one_hot` with N as zeros):
    N scores 0 in every motif column. Raises ValueError for characters other than ``ACGTN``."""
    if not seq:
        return np.zeros((4, 0))
    return one_hot([seq], n_value="zero")[0].astype(np.float64)


class MotifScanner:
    """Scores sequences against many motifs at once, on both strands, with exact p-values.

    Args:
        motifs: the motifs to scan for.
        background: base frequencies ``A C G T`` for log-odds and p-values.
        pseudocount: added to the probabilities (times the background) before taking logs.
        resolution: score grid step (bits); log-odds are rounded to it so p-values are exact.
    """

    def __init__(
        self,
        motifs: Sequence[Motif],
        *,
        background: Sequence[float] = UNIFORM,
        pseudocount: float = 0.01,
        resolution: float = 0.01,
    ) -> None:
        if not motifs:
            raise ValueError("no motifs to scan with")
        self.motifs = list(motifs)
        self.background = np.asarray(background, dtype=np.float64)
        self.resolution = resolution
        # log-odds on the p-value grid, so a score's p-value is exact, not off by rounding
        self.log_odds = [
            np.round(m.log_odds(self.background, pseudocount) / resolution) * resolution for m in self.motifs
        ]
        groups: dict[int, list[int]] = {}
        for i, motif in enumerate(self.motifs):
            groups.setdefault(motif.width, []).append(i)
        self._groups = {w: np.asarray(ix) for w, ix in sorted(groups.items())}
        # per width: [M, 2, 4, W] log-odds of the + strand and of the - strand (reversed, complemented)
        self._stacked = {}
        for width, index in self._groups.items():
            forward = np.stack([self.log_odds[i] for i in index])
            self._stacked[width] = np.stack([forward, forward[:, ::-1, ::-1]], axis=1)
        tails = [self._score_tail(lo) for lo in self.log_odds]
        self._tail_low = np.array([low for low, _ in tails], dtype=np.int64)
        self._tail_size = np.array([len(t) for _, t in tails], dtype=np.int64)
        self._tail_start = np.concatenate([[0], np.cumsum(self._tail_size)[:-1]])
        self._tails = np.concatenate([t for _, t in tails])

    def __repr__(self) -> str:
        return f"MotifScanner(n_motifs={len(self.motifs)})"

    def _score_tail(self, log_odds: np.ndarray) -> tuple[int, np.ndarray]:
        """Exact null distribution of the (gridded) score: returns ``(min_bin, P(score ≥ bin))``."""
        grid = np.round(log_odds / self.resolution).astype(np.int64)  # [4, W]
        low = int(grid.min(axis=0).sum())
        pmf = np.ones(1)
        offset = 0
        for column in grid.T:
            base = int(column.min())
            new = np.zeros(len(pmf) + int(column.max()) - base)
            for value, prob in zip(column, self.background):
                shift = int(value) - base
                new[shift : shift + len(pmf)] += prob * pmf
            pmf, offset = new, offset + base
        assert offset == low
        tail = np.cumsum(pmf[::-1])[::-1]
        return low, np.minimum(tail, 1.0)

    def p_values(self, motif_index: int | np.ndarray, scores: np.ndarray) -> np.ndarray:
        """P(a background site scores ≥ ``score``) for motif(s) ``motif_index`` (broadcast with ``scores``)."""
        motif_index = np.asarray(motif_index)
        bins = np.round(np.asarray(scores) / self.resolution).astype(np.int64) - self._tail_low[motif_index]
        bins = np.clip(bins, 0, self._tail_size[motif_index] - 1)  # above the maximum: P(maximum)
        return self._tails[self._tail_start[motif_index] + bins]

    def score(self, x: np.ndarray) -> dict[int, np.ndarray]:
        """Log-odds scores of every motif at every start, both strands.

        Shapes:
            x: ``[N, 4, L]`` one-hot (all-zero columns score 0).
            returns: motif width ``W`` → ``[N, M_W, 2, L - W + 1]`` (strand 0 = ``+``, 1 = ``-``), for
            the ``M_W`` motifs of that width in :attr:`width_groups` order.
        """
        x = np.asarray(x, dtype=np.float64)
        out = {}
        for width, both in self._stacked.items():
            if width > x.shape[2]:
                continue
            windows = np.lib.stride_tricks.sliding_window_view(x, width, axis=2)  # [N, 4, P, W]
            n, _, positions, _ = windows.shape
            flat = windows.transpose(0, 2, 1, 3).reshape(n * positions, 4 * width)  # one matrix product
            scores = flat @ both.reshape(-1, 4 * width).T  # [N·P, M·2]
            out[width] = scores.reshape(n, positions, -1, 2).transpose(0, 2, 3, 1)
        return out

    @property
    def width_groups(self) -> dict[int, np.ndarray]:
        return dict(self._groups)

    def best_hits(
        self, seq: str, *, top: int | None = 5, region: tuple[int, int] | None = None
    ) -> list[dict[str, object]]:
        """Each motif's best site in ``seq``, ranked by p-value (then score), ``top`` of them.

        ``region`` (0-based, end exclusive) keeps only sites whose center lies in it. Each hit has
        ``motif_id motif_name score p_value start end strand match``: 0-based ``start``/``end`` and
        the matched bases as they read on the ``+`` strand.
        """
        return self.best_hits_many([seq], None if region is None else [region], top=top)[0]

    def best_hits_many(
        self,
        seqs: Sequence[str],
        regions: Sequence[tuple[int, int]] | None = None,
        *,
        top: int | None = 5,
        chunk_size: int = 32,
    ) -> list[list[dict[str, object]]]:
        """:meth:`best_hits` of many sequences, scanned together ``chunk_size`` at a time."""
        regions = list(regions) if regions is not None else [(0, len(s)) for s in seqs]
        if len(regions) != len(seqs):
            raise ValueError(f"{len(regions)} regions for {len(seqs)} sequences")
        out: list[list[dict[str, object]]] = []
        for start in range(0, len(seqs), chunk_size):
            chunk = slice(start, start + chunk_size)
            out.extend(self._best_chunk(list(seqs[chunk]), regions[chunk], top))
        return out

    def _best_chunk(
        self, seqs: list[str], regions: list[tuple[int, int]], top: int | None
    ) -> list[list[dict[str, object]]]:
        if not seqs:
            return []
        n, m = len(seqs), len(self.motifs)
        lengths = np.array([len(s) for s in seqs])
        width = max(1, int(lengths.max()))
        x = np.zeros((n, 4, width))  # zero columns pad the shorter sequences
        present = [i for i, seq in enumerate(seqs) if seq]
        if present:
            x[present] = one_hot([seqs[i] for i in present], length=width, n_value="zero", pad="right")
        lo = np.array([r[0] for r in regions])[:, None]
        hi = np.array([r[1] for r in regions])[:, None]
        best = np.full((n, m), -np.inf)
        where = np.zeros((n, m, 2), dtype=np.int64)  # (start, strand)
        for width, scores in self.score(x).items():
            starts = np.arange(scores.shape[-1])
            centers = starts + width / 2
            usable = (centers >= lo) & (centers < hi) & (starts + width <= lengths[:, None])  # [n, P]
            flat = np.where(usable[:, None, None, :], scores, -np.inf).reshape(n, scores.shape[1], -1)
            arg = flat.argmax(axis=-1)  # [n, M_W]
            index = self._groups[width]
            best[:, index] = np.take_along_axis(flat, arg[..., None], axis=-1)[..., 0]
            strand, position = np.divmod(arg, scores.shape[-1])
            where[:, index, 0], where[:, index, 1] = position, strand
        found_any = np.isfinite(best)  # a motif may have no site (wider than the sequence, none in region)
        p_values = np.where(found_any, self.p_values(np.arange(m)[None, :], np.where(found_any, best, 0)), np.inf)
        out = []
        for i, seq in enumerate(seqs):
            found = np.flatnonzero(found_any[i])
            order = found[np.lexsort((-best[i, found], p_values[i, found]))][:top]
            rows = []
            for j in order:
                motif, (p, strand) = self.motifs[j], where[i, j]
                rows.append(
                    {
                        "motif_id": motif.id,
                        "motif_name": motif.name,
                        "score": float(best[i, j]),
                        "p_value": float(p_values[i, j]),
                        "start": int(p),
                        "end": int(p) + motif.width,
                        "strand": "+-"[int(strand)],
                        "match": seq[p : p + motif.width],
                    }
                )
            out.append(rows)
        return out
