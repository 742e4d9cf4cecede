"""``molgen interpret``: atom attributions of a molecule property model, similarity maps, top substructures."""

from __future__ import annotations

import argparse

from molgen.cli.messages import print_invalid
from molgen.errors import ConfigError

DESCRIPTION = """\
Explains a molecule property model's predictions atom by atom and writes, under --output DIR:

  atoms.csv          one row per heavy atom: row, smiles, atom_index, element, <target>_attribution
  molecules.csv      one row per input row: mapped_smiles (atom map number = atom_index + 1), n_atoms,
                     <target>_pred, <target>_baseline (ig), <target>_attribution_sum, valid,
                     invalid_reason, image
  images/<row>.png   an RDKit similarity map per valid molecule (green raises, pink lowers)
  substructures.csv  Morgan atom environments (radius 1 and 2) seen at least --min-count times, with
                     count and mean summed attribution; summary.md lists the --top that most raise
                     and most lower each target

--method ig: integrated gradients (Captum) from all-zero atom and bond features, --n-steps steps;
an atom's score sums its feature attributions plus half of each of its bonds'. --method masking:
the change of the prediction when the atom's and its bonds' features are zeroed, f(x) - f(masked).
Ensembles: the members' mean prediction is explained. DNA models: use `molgen attribute`.
"""


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "interpret",
        help="atom attributions, similarity maps and top substructures of a molecule property model",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--model", required=True, help="model folder of a property model (run folder or its model/)")
    parser.add_argument(
        "--input", required=True, help="molecules: CSV/TSV/TXT, .smi, SDF or Parquet (as molgen predict reads)"
    )
    parser.add_argument("--output", required=True, help="folder to write (replaced if molgen interpret wrote it)")
    parser.add_argument("--method", choices=("ig", "masking"), default="ig", help="attribution method (default: ig)")
    parser.add_argument("--target", help="target to explain (default: every target; images show the first)")
    parser.add_argument("--n-steps", type=int, default=50, help="integrated-gradients steps (default: 50)")
    parser.add_argument(
        "--input-column", "--smiles-column", dest="input_column", help="SMILES column (default: the model's)"
    )
    parser.add_argument("--min-count", type=int, default=3, help="substructures seen fewer times are left out")
    parser.add_argument("--top", type=int, default=10, help="substructures listed per target and direction")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from molgen.analysis.interpretation import load_property_model
    from molgen.analysis.interpretation_output import check_output_folder, interpret_file

    for name in ("n_steps", "min_count", "top"):
        if getattr(args, name) < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be positive, got {getattr(args, name)}")
    check_output_folder(args.output)  # fail before loading and computing anything
    model = load_property_model(args.model)
    report = interpret_file(
        model,
        args.input,
        args.output,
        input_column=args.input_column,
        method=args.method,
        target=args.target,
        n_steps=args.n_steps,
        min_count=args.min_count,
        top_k=args.top,
    )
    print_invalid(report.invalid, report.n_invalid, "invalid input, ", "invalid rows")
    for r in report.top.groupby(["target", "direction"], sort=False).head(1).itertuples():
        print(
            f"{r.target}: top substructure that {r.direction} it: {r.substructure} "
            f"({r.mean_attribution:+.3g} on average, {r.count}×)"
        )
    print(
        f"explained {report.n_rows - report.n_invalid} of {report.n_rows} rows ({args.method}); wrote {report.output}"
    )
    return 0
