"""``molgen attribute``: ISM and gradient × input attributions, logos and matching JASPAR motifs."""

from __future__ import annotations

import argparse
import sys

from molgen.cli.variant_effect import add_sequence_model_options
from molgen.errors import ConfigError

DESCRIPTION = """\
Explains a DNA model's predictions base by base and writes, under --output DIR:

  attributions.npz  ids, sequences, onehot [N,4,L], predictions [N,T], importance [N,L], and
                    ism [N,4,L] (mutant − reference prediction, 0 at the reference base) and/or
                    gradxinput [N,4,L]; plain arrays (np.load(..., allow_pickle=False))
  summary.csv       one row per sequence: prediction, top attribution window, its best motif
  positions.csv     one row per base: ism_mean/min/max, ism_importance (−mean effect), gradxinput
  logos/*.png       a sequence logo per sequence (grad × input, or ISM importance)
  motifs.csv        the --top-motifs best-matching motifs (by p-value, both strands) in each of the
                    --windows top attribution windows; positions are 1-based in the input sequence

Motifs are read from --motifs FILE.meme, by default $MOLGEN_DATA_DIR/motifs/
jaspar2024_core_latest_versions.meme (JASPAR 2024 CORE, all taxa). --motif-taxon plants (or
vertebrates, fungi, insects, nematodes, urochordates; several comma-separated) keeps JASPAR's motifs
of that tax_group, read from the table next to the MEME file (FILE.tsv: motif_id, tax_group).
--top-motifs 0 skips motif matching.
"""


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "attribute",
        help="attributions (ISM, gradient × input), sequence logos and motif matches",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", required=True, help="model folder of a DNA model (run folder or its model/)")
    parser.add_argument("--sequences", required=True, help="FASTA or CSV/TSV (id and sequence columns)")
    parser.add_argument("--output", required=True, help="folder to write")
    parser.add_argument("--target", help="target to explain (default: the model's first)")
    parser.add_argument("--method", choices=("ism", "gradxinput", "both"), default="both")
    parser.add_argument("--top-motifs", type=int, default=5, metavar="K", help="motifs reported per window (0: none)")
    parser.add_argument("--motifs", help="MEME motif file (default: JASPAR 2024 CORE in $MOLGEN_DATA_DIR)")
    parser.add_argument(
        "--motif-taxon",
        metavar="TAXON",
        help="match only JASPAR motifs of this tax_group, e.g. plants, vertebrates, fungi (default: all)",
    )
    parser.add_argument("--windows", type=int, default=3, help="top attribution windows per sequence to annotate")
    parser.add_argument("--window-size", type=int, default=20, help="bases per attribution window")
    parser.add_argument("--max-logos", type=int, default=100, help="logos for at most this many sequences")
    add_sequence_model_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from molgen.analysis.prediction import load_model
    from molgen.genomics.attribution import SequenceModel, compute_attributions
    from molgen.genomics.attribution_report import write_attributions
    from molgen.genomics.motifs import MotifScanner, default_motif_file, load_motifs
    from molgen.genomics.variants import read_sequences

    for name in ("top_motifs", "windows", "window_size", "max_logos", "batch_size"):
        if getattr(args, name) < (0 if name in ("top_motifs", "max_logos") else 1):
            raise ConfigError(f"--{name.replace('_', '-')} must be positive, got {getattr(args, name)}")
    scanner, motif_note = None, ""
    if args.top_motifs > 0:  # fail before the work
        motifs = load_motifs(args.motifs, taxon=args.motif_taxon)
        scanner = MotifScanner(motifs)
        taxon = f"tax_group {args.motif_taxon}" if args.motif_taxon else "all taxa"
        motif_note = f"; matched {len(motifs)} motifs ({taxon}) from {args.motifs or default_motif_file()}"
    elif args.motif_taxon:
        raise ConfigError("--motif-taxon needs motif matching (--top-motifs > 0)")
    model = SequenceModel.from_loaded(load_model(args.model), batch_size=args.batch_size, rc_average=args.rc_average)
    model.target_index(args.target)
    records = read_sequences(args.sequences, id_column=args.id_column, sequence_column=args.sequence_column)
    attributions = compute_attributions(model, records, target=args.target, method=args.method)
    report = write_attributions(
        attributions,
        args.output,
        scanner=scanner,
        top_motifs=args.top_motifs,
        n_windows=args.windows,
        window=args.window_size,
        max_logos=args.max_logos,
    )
    for line in report.invalid[:20]:
        print(f"invalid sequence {line}", file=sys.stderr)
    print(
        f"attributed {report.n_sequences - report.n_invalid} of {report.n_sequences} sequences "
        f"({attributions.target}){motif_note}; wrote {report.output}"
    )
    return 0
