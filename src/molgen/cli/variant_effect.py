"""``molgen variant-effect``: alt − ref predictions of a DNA model for a table or VCF of variants."""

from __future__ import annotations

import argparse

from molgen.cli.messages import print_invalid

DESCRIPTION = """\
Predicts every variant's reference and alternative sequence and writes one CSV row per variant:
the input columns, <target>_ref, <target>_alt, <target>_diff (alt − ref) per target, valid and error.

Variants come either as a table (--sequences FILE --variants FILE) or as a VCF with a reference genome
(--vcf FILE --reference FASTA).

  --variants  CSV/TSV with columns sequence_id (or chrom), position (or pos), ref, alt and optionally
              variant_id. Positions are 1-BASED, as in VCF: position 1 is the first base of the
              sequence. Use '-' for an empty allele (ref '-' inserts alt before the position).
  --sequences FASTA, or CSV/TSV with an id column (id/sequence_id/name) and a sequence column.

Sequences no longer than the model's input are used whole (an indel's alt is then padded or cropped
around the center); longer sequences and reference contigs give a window of the input length centered
on the variant. A ref allele that does not match the sequence, an unknown sequence id, a position
outside the sequence or a symbolic allele is reported on its row (valid=false, error=…), never dropped.
"""


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "variant-effect",
        help="predict variant effects (alt − ref) with a DNA sequence model",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", required=True, help="model folder of a DNA model (run folder or its model/)")
    parser.add_argument("--sequences", help="FASTA or CSV/TSV of sequences the variants refer to")
    parser.add_argument("--variants", help="CSV/TSV of variants: sequence_id, position (1-based), ref, alt")
    parser.add_argument("--vcf", help="VCF of variants (CHROM, POS (1-based), ID, REF, ALT), with --reference")
    parser.add_argument("--reference", help="reference genome FASTA (optionally gzip/bgzip) for --vcf")
    parser.add_argument("--output", required=True, help="CSV file to write")
    add_sequence_model_options(parser)
    parser.set_defaults(run=run)


def add_sequence_model_options(parser: argparse.ArgumentParser) -> None:
    """Options of the commands that run a DNA model over a sequence table or FASTA (variant-effect, attribute)."""
    parser.add_argument("--id-column", help="id column of a sequence table (default: id, sequence_id or name)")
    parser.add_argument("--sequence-column", help="sequence column of a sequence table (default: sequence or seq)")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument(
        "--rc-average",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="average each prediction with the reverse complement's (default: as molgen predict "
        "does for this model, i.e. when it was trained with --rc-augment)",
    )


def run(args: argparse.Namespace) -> int:
    from molgen.analysis.prediction import load_model
    from molgen.genomics.attribution import SequenceModel
    from molgen.genomics.variant_effects import variant_effect_file
    from molgen.io import check_writable

    check_writable(args.output)  # before loading and scoring
    model = SequenceModel.from_loaded(load_model(args.model), batch_size=args.batch_size, rc_average=args.rc_average)
    summary = variant_effect_file(
        model,
        args.output,
        sequences=args.sequences,
        variants=args.variants,
        vcf=args.vcf,
        reference=args.reference,
        id_column=args.id_column,
        sequence_column=args.sequence_column,
    )
    print_invalid(summary.invalid, summary.n_invalid, "invalid variant ", "invalid variants")
    print(f"wrote {summary.n_variants} variants ({summary.n_invalid} invalid) to {summary.output}")
    return 0
