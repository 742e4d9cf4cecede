"""Public datasets by name: file (URL + sha256), columns, task, default split, metric, published results.

Column names were read from the headers of the files in the shared mirror. Each entry says what its
sha256 was computed from. Metrics and splits follow MoleculeNet (Wu et al., Chem. Sci. 2018) and
Chemprop: RMSE for ESOL/FreeSolv/Lipophilicity, MAE for QM9, ROC-AUC for the classification sets
except MUV (PR-AUC); scaffold splits for BBBP, BACE and HIV, random splits otherwise.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from molgen.data.sources import RemoteFile
from molgen.data.splits import SPLIT_TYPES
from molgen.registry import Registry

TASK_TYPES = ("regression", "binary", "multilabel", "multiclass", "generation")
KINDS = ("molecules", "sequences", "smiles")

_DEEPCHEM_S3 = "https://deepchemdata.s3-us-west-1.amazonaws.com/datasets"
_GLAMBARD = (
    "https://raw.githubusercontent.com/GLambard/Molecules_Dataset_Collection/"
    "beb35cd0b76db5adef6cb1fa55807e4cd309aaed/originals"
)
_ATTENTIVEFP = (
    "https://raw.githubusercontent.com/OpenDrugAI/AttentiveFP/dda6708342ffe255ded73c459ad64214a4615542/data"
)
_DEEPCHEM_GH = "https://raw.githubusercontent.com/deepchem/deepchem/fbe3b911a94a6eb8c84c1a9e7ac67a472c49ea80"
_MOLNET = (
    'Wu et al., "MoleculeNet: a benchmark for molecular machine learning", Chem. Sci. 2018, 9, 513 '
    "(doi:10.1039/C7SC02664A)"
)


@dataclass(frozen=True)
class Reference:
    """A published result: ``value`` (± ``std``) of ``metric`` for ``model`` on a ``split`` split."""

    model: str
    metric: str
    value: float
    std: float | None
    split: str
    source: str  # citation + URL/DOI


@dataclass(frozen=True)
class DatasetSpec:
    """Everything needed to load, split and score a public dataset."""

    name: str
    description: str
    remote: RemoteFile
    input_column: str
    target_columns: tuple[str, ...]
    task_type: str  # regression | binary | multilabel | multiclass
    default_split: str  # random | scaffold | stratified | predefined
    metric: str  # headline metric, lowercase: rmse | mae | roc_auc | pr_auc | ...
    split_column: str | None = None  # column of a predefined split (train/valid/test values)
    references: tuple[Reference, ...] = ()
    citation: str = ""
    license: str = ""
    kind: str = "molecules"
    extra_files: tuple[RemoteFile, ...] = ()  # further files of a dataset assembled from several (see description)

    def __post_init__(self) -> None:
        if self.task_type not in TASK_TYPES:
            raise ValueError(f"{self.name}: task_type must be one of {TASK_TYPES}, got {self.task_type!r}")
        if self.default_split not in SPLIT_TYPES:
            raise ValueError(f"{self.name}: default_split must be one of {SPLIT_TYPES}, got {self.default_split!r}")
        if self.default_split == "predefined" and not self.split_column:
            raise ValueError(f"{self.name}: a predefined default split needs split_column")
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: kind must be one of {KINDS}, got {self.kind!r}")
        if self.input_column in self.target_columns or len(set(self.target_columns)) != len(self.target_columns):
            raise ValueError(f"{self.name}: input and target columns must be distinct")

    def to_dict(self) -> dict:
        """A JSON-able description (for ``molgen datasets info``)."""
        d = asdict(self)
        d["target_columns"] = list(self.target_columns)
        d["references"] = [asdict(r) for r in self.references]
        d["extra_files"] = [asdict(f) for f in self.extra_files]
        d["n_targets"] = len(self.target_columns)
        return d


def _chemprop(metric: str, value: float, std: float, split: str) -> Reference:
    return Reference(
        "Chemprop D-MPNN", metric, value, std, split,
        "Chemprop README 'Results' table (single models, MoleculeNet splits), "
        "https://github.com/chemprop/chemprop/blob/97c03cb658be4081bbc4e8655e6670eff80d26a4/README.md#results; "
        "model: Yang et al., J. Chem. Inf. Model. 2019, 59, 3370 (doi:10.1021/acs.jcim.9b00237)",
    )


def _molnet_best(metric: str, value: float, std: float, split: str) -> Reference:
    return Reference(
        "MoleculeNet best model", metric, value, std, split,
        f"{_MOLNET}; value as quoted in the 'MolNet Best Model' column of the Chemprop README Results table, "
        "https://github.com/chemprop/chemprop/blob/97c03cb658be4081bbc4e8655e6670eff80d26a4/README.md#results",
    )


_SIDER_TASKS = (
    "Hepatobiliary disorders", "Metabolism and nutrition disorders", "Product issues", "Eye disorders",
    "Investigations", "Musculoskeletal and connective tissue disorders", "Gastrointestinal disorders",
    "Social circumstances", "Immune system disorders", "Reproductive system and breast disorders",
    "Neoplasms benign, malignant and unspecified (incl cysts and polyps)",
    "General disorders and administration site conditions", "Endocrine disorders",
    "Surgical and medical procedures", "Vascular disorders", "Blood and lymphatic system disorders",
    "Skin and subcutaneous tissue disorders", "Congenital, familial and genetic disorders",
    "Infections and infestations", "Respiratory, thoracic and mediastinal disorders",
    "Psychiatric disorders", "Renal and urinary disorders", "Pregnancy, puerperium and perinatal conditions",
    "Ear and labyrinth disorders", "Cardiac disorders", "Nervous system disorders",
    "Injury, poisoning and procedural complications",
)
_TOX21_TASKS = (
    "NR-AR", "NR-AR-LBD", "NR-AhR", "NR-Aromatase", "NR-ER", "NR-ER-LBD", "NR-PPAR-gamma",
    "SR-ARE", "SR-ATAD5", "SR-HSE", "SR-MMP", "SR-p53",
)
_MUV_TASKS = tuple(
    f"MUV-{i}" for i in (466, 548, 600, 644, 652, 689, 692, 712, 713, 733, 737, 810, 832, 846, 852, 858, 859)
)
# The 12 standard QM9 targets (MoleculeNet/Chemprop); the rotational constants A, B, C are left out.
_QM9_TASKS = ("mu", "alpha", "homo", "lumo", "gap", "r2", "zpve", "u0", "u298", "h298", "g298", "cv")


def _build_specs() -> tuple[DatasetSpec, ...]:
    return (
        DatasetSpec(
            name="esol",
            description="Aqueous solubility (log mol/L) of 1,128 compounds (Delaney); regression.",
            # sha256 of the mirror file; its md5 (0c90a516…) equals the md5 TorchDrug pins for DeepChem's S3 copy.
            remote=RemoteFile(f"{_DEEPCHEM_S3}/delaney-processed.csv",
                              "8c06a76f0c6487d29ab0f903e6a7a7139f189ab3c1178f159c8be8964602f189",
                              "moleculenet/esol.csv"),
            input_column="smiles",
            target_columns=("measured log solubility in mols per litre",),  # not the "ESOL predicted" baseline
            task_type="regression", default_split="random", metric="rmse",
            references=(_chemprop("rmse", 0.555, 0.047, "random"), _molnet_best("rmse", 0.58, 0.03, "random")),
            citation=f"Delaney, J. Chem. Inf. Comput. Sci. 2004, 44, 1000; {_MOLNET}",
            license="MIT (DeepChem repository)",
        ),
        DatasetSpec(
            name="freesolv",
            description="Hydration free energy (kcal/mol) of 642 small molecules (FreeSolv/SAMPL); regression.",
            # sha256 of the mirror file = the GLambard file at the pinned commit (byte-identical per MANIFEST).
            remote=RemoteFile(f"{_GLAMBARD}/FreeSolv_SAMPL.csv",
                              "ab5895d914ee87cb563bd7b9611e869527bba45bec6b014d34dc495a0f9dcb72",
                              "moleculenet/freesolv.csv"),
            input_column="smiles", target_columns=("expt",),  # "calc" is the computed value, not a target
            task_type="regression", default_split="random", metric="rmse",
            references=(_chemprop("rmse", 1.075, 0.054, "random"), _molnet_best("rmse", 1.15, 0.12, "random")),
            citation=f"Mobley & Guthrie, J. Comput. Aided Mol. Des. 2014, 28, 711; {_MOLNET}",
            license="MIT (GLambard collection); upstream FreeSolv licence not checked",
        ),
        DatasetSpec(
            name="lipophilicity",
            description="Octanol/water logD7.4 of 4,200 compounds (AstraZeneca, ChEMBL); regression.",
            # sha256 of the mirror file; its md5 (85a0e1cb…) equals the md5 TorchDrug pins for DeepChem's S3 copy.
            remote=RemoteFile(f"{_DEEPCHEM_S3}/Lipophilicity.csv",
                              "aed41590cb30609d51d8e08ad3ff06495a76e80e211358801f596b10da69bacd",
                              "moleculenet/lipophilicity.csv"),
            input_column="smiles", target_columns=("exp",),
            task_type="regression", default_split="random", metric="rmse",
            references=(_chemprop("rmse", 0.555, 0.023, "random"), _molnet_best("rmse", 0.655, 0.036, "random")),
            citation=f"AstraZeneca deposition in ChEMBL; {_MOLNET}",
            license="MIT (collection); ChEMBL data CC BY-SA 3.0",
        ),
        DatasetSpec(
            name="bbbp",
            description="Blood-brain barrier penetration (p_np) of 2,050 compounds; binary.",
            # sha256 of the mirror file; its md5 (66286cb9…) equals the md5 TorchDrug pins for DeepChem's S3 copy.
            remote=RemoteFile(f"{_DEEPCHEM_S3}/BBBP.csv",
                              "d07a38487aeac5cee5508413e468043ef3097451d2a112701c2d60be9ec6b662",
                              "moleculenet/bbbp.csv"),
            input_column="smiles", target_columns=("p_np",),
            task_type="binary", default_split="scaffold", metric="roc_auc",
            references=(
                _chemprop("roc_auc", 0.737, 0.001, "scaffold"),
                _molnet_best("roc_auc", 0.729, 0.0, "scaffold"),
            ),
            citation=f"Martins et al., J. Chem. Inf. Model. 2012, 52, 1686; {_MOLNET}",
            license="MIT (GLambard collection)",
        ),
        DatasetSpec(
            name="bace",
            description="BACE-1 inhibition (Class) of 1,513 compounds; binary. 'Model' holds the original "
            "split (Train 203 / Valid 45 / Test 1,265 rows).",
            # sha256 of the DEcompressed mirror file (the mirror stores gzip -9n of bace.csv); the md5 of the
            # decompressed bytes (ba7f8fa3…) equals the md5 TorchDrug pins for DeepChem's S3 copy.
            remote=RemoteFile(f"{_DEEPCHEM_S3}/bace.csv",
                              "f3fb9ce90bada3e2bd6148b0df13f8f8145a357bf87df0dd5b391ede974fc737",
                              "moleculenet/bace.csv.gz", mirror_gzip=True),
            input_column="mol", target_columns=("Class",),  # pIC50 and 590 descriptor columns are not targets
            task_type="binary", default_split="scaffold", metric="roc_auc", split_column="Model",
            citation=f"Subramanian et al., J. Chem. Inf. Model. 2016, 56, 1936; {_MOLNET}",
            license="DeepChem/MoleculeNet distribution; same data under MIT in the GLambard collection",
        ),
        DatasetSpec(
            name="clintox",
            description="FDA approval and clinical-trial toxicity of 1,484 drugs; 2 binary tasks.",
            # sha256 of the mirror file = AttentiveFP's clintox.csv at the pinned commit (DeepChem serves a .gz).
            remote=RemoteFile(f"{_ATTENTIVEFP}/clintox.csv",
                              "9999816e760dd838358b5d88e81cea2fc062be4458ffa412ceecdba4f88a67b6",
                              "moleculenet/clintox.csv"),
            input_column="smiles", target_columns=("FDA_APPROVED", "CT_TOX"),
            task_type="multilabel", default_split="random", metric="roc_auc",
            references=(_chemprop("roc_auc", 0.864, 0.017, "random"), _molnet_best("roc_auc", 0.832, 0.037, "random")),
            citation=f"Gayvert et al., Cell Chem. Biol. 2016; {_MOLNET}",
            license="no LICENSE in the AttentiveFP repository; near-identical MIT copy in the GLambard collection",
        ),
        DatasetSpec(
            name="sider",
            description="Side effects of 1,427 marketed drugs by system organ class (SIDER); 27 binary tasks.",
            # sha256 of the mirror file = GLambard's sider.csv (the decompressed DeepChem sider.csv.gz).
            remote=RemoteFile(f"{_GLAMBARD}/sider.csv",
                              "71efc6ac4ca82d6545bc512509863281be0f17234afd7adaf71a71899988302e",
                              "moleculenet/sider.csv"),
            input_column="smiles", target_columns=_SIDER_TASKS,
            task_type="multilabel", default_split="random", metric="roc_auc",
            references=(_chemprop("roc_auc", 0.676, 0.014, "random"), _molnet_best("roc_auc", 0.648, 0.009, "random")),
            citation=f"Kuhn et al., Mol. Syst. Biol. 2016; {_MOLNET}",
            license="MIT (DeepChem); SIDER upstream CC BY-NC-SA 4.0",
        ),
        DatasetSpec(
            name="tox21",
            description="Tox21 challenge: 12 nuclear-receptor/stress-response assays on 7,831 compounds; sparse.",
            # sha256 of the mirror file = GLambard's tox21.csv at the pinned commit (DeepChem serves a .gz).
            remote=RemoteFile(f"{_GLAMBARD}/tox21.csv",
                              "7d7e7facd853a63e79ddce4e9c3fcb7a0d83a1c300b603031c0f2c64fbe77761",
                              "moleculenet/tox21.csv"),
            input_column="smiles", target_columns=_TOX21_TASKS,
            task_type="multilabel", default_split="random", metric="roc_auc",
            references=(_chemprop("roc_auc", 0.851, 0.002, "random"), _molnet_best("roc_auc", 0.829, 0.006, "random")),
            citation=f"Tox21 Data Challenge 2014 (NIH); {_MOLNET}",
            license="MIT (GLambard collection); Tox21 data public domain",
        ),
        DatasetSpec(
            name="hiv",
            description="Inhibition of HIV replication (DTP AIDS screen) for 41,127 compounds; binary.",
            # sha256 of the DEcompressed mirror file (gzip -9n of GLambard's HIV.csv); DeepChem's HIV.csv differs.
            remote=RemoteFile(f"{_GLAMBARD}/HIV.csv",
                              "54713c3205055055ea4214e8c4b0d22d93af7e54ad2c48f4edc866e161e57262",
                              "moleculenet/hiv.csv.gz", mirror_gzip=True),
            input_column="smiles", target_columns=("HIV_active",),  # "activity" is the raw CI/CM/CA label
            task_type="binary", default_split="scaffold", metric="roc_auc",
            references=(
                _chemprop("roc_auc", 0.776, 0.007, "scaffold"),
                _molnet_best("roc_auc", 0.792, 0.0, "scaffold"),
            ),
            citation=f"DTP AIDS Antiviral Screen (NCI); {_MOLNET}",
            license="MIT (GLambard collection); NCI data public",
        ),
        DatasetSpec(
            name="muv",
            description="Maximum Unbiased Validation: 17 PubChem-derived virtual-screening tasks, 93,127 compounds.",
            # sha256 of the mirror file = DeepChem's datasets/muv.csv.gz at the pinned commit (bytes as in git).
            remote=RemoteFile(f"{_DEEPCHEM_GH}/datasets/muv.csv.gz",
                              "93c8b4a37c5996c76e57d5f3f065fb8b7cf1c19067011eff2293fd2a94ce274a",
                              "moleculenet/muv.csv.gz"),
            input_column="smiles", target_columns=_MUV_TASKS,
            task_type="multilabel", default_split="random", metric="pr_auc",
            references=(_chemprop("pr_auc", 0.041, 0.007, "random"), _molnet_best("pr_auc", 0.184, 0.02, "random")),
            citation=f"Rohrer & Baumann, J. Chem. Inf. Model. 2009, 49, 169; {_MOLNET}",
            license="MIT (DeepChem)",
        ),
        DatasetSpec(
            name="toxcast",
            description="ToxCast: 617 in-vitro assay endpoints on 8,615 compounds; sparse.",
            # sha256 of the mirror file = DeepChem's toxcast_data.csv.gz at the pinned commit (bytes as in git).
            remote=RemoteFile(f"{_DEEPCHEM_GH}/examples/toxcast/processing/toxcast_data.csv.gz",
                              "56041515e0bb63c1787a26ecdbeb2bd7ae1f538681caa1b03f768853cf81b1a7",
                              "moleculenet/toxcast.csv.gz"),
            input_column="smiles", target_columns=_TOXCAST_TASKS,  # 617 assay columns, listed at the end
            task_type="multilabel", default_split="random", metric="roc_auc",
            citation=f"US EPA ToxCast; {_MOLNET}",
            license="MIT (DeepChem); US EPA data public",
        ),
        DatasetSpec(
            name="qm9",
            description="QM9 (130,831 molecules passing the consistency check): 12 DFT properties; regression. "
            "Units as in QM9 (Hartree, Debye, bohr^3, bohr^2, cal/mol/K).",
            # DERIVED file: no public URL serves it; sha256 of the DEcompressed mirror file.
            remote=RemoteFile("", "1bc81bbd6114b6a1d460d80227fe9b2b600df0a82bc2a804899e9fad829a1439",
                              "moleculenet/qm9.csv.gz", mirror_gzip=True,
                              derived_from="PyPI qm9pack 1.0.3 wheel, qm9pack/data/qm9_part{1,2,3}.csv concatenated; "
                              "scalar targets kept and renamed to MoleculeNet names (see the data MANIFEST)"),
            input_column="smiles", target_columns=_QM9_TASKS,
            task_type="regression", default_split="random", metric="mae",
            citation="Ramakrishnan et al., Sci. Data 2014, 1, 140022; Ruddigkeit et al., J. Chem. Inf. Model. 2012",
            license="MIT (qm9pack); QM9 CC0",
        ),
    )


_GPRO = "https://raw.githubusercontent.com/WangLabTHU/GPro/93feed74dca494d99fad52594cb1d3d789a7dec0/data"
_GPRO_CITE = "Wang H. et al., GPro, Bioinformatics 2024, btae123"


def _sequence_specs() -> tuple[DatasetSpec, ...]:
    """DNA → expression datasets (kind "sequences"). sha256 values were checked against the mirror; for a
    ``mirror_gzip`` file the checksum is of the decompressed bytes."""
    return (
        DatasetSpec(
            name="ecoli_promoters_165",
            description="Expression (log-scaled, centred) of 13,972 165-bp promoter sequences in E. coli (MPRA); "
            "regression. Default split (predefined, dataset-specific): the 398 sequences of DeepSEED's test file "
            "are the test set (matched by sequence; extra_files[0]); validation is a seeded draw of "
            "split_sizes[1] of all rows from the rest.",
            remote=RemoteFile(f"{_GPRO}/ecoli_165_cross_species_wanglab/ecoli_mpra_expr.csv",
                              "0466adc92af62de7ff21b2b83132d2744eb3f4b2b48ffce7535465093fa7cc8a",
                              "genomics/ecoli_promoters_165bp_gpro.csv.gz", mirror_gzip=True),
            extra_files=(
                RemoteFile("https://raw.githubusercontent.com/WangLabTHU/deepseed/"
                           "aed1fe686669c5a08dc110e40198ce088d6a18f5/data/ecoli_mpra_expr_test.csv",
                           "5cc932a3acc160f0f0ba718d328970402bd05b087547e42fababf8d1c64322d6",
                           "genomics/ecoli_promoters_165bp_deepseed_test.csv"),
            ),
            input_column="seq", target_columns=("expr",), task_type="regression", default_split="predefined",
            split_column="split",  # added by the loader: "test" for DeepSEED's test sequences, else "train"
            metric="pearson", kind="sequences",
            citation=f"{_GPRO_CITE}; Zhang P. et al., DeepSEED, Nat. Commun. 2023, 14, 6309", license="MIT (GPro)",
        ),
        DatasetSpec(
            name="ecoli_promoters_50",
            description="Activity of 11,884 natural E. coli promoters (50 nt upstream of the TSS, lower-case); "
            "regression.",
            remote=RemoteFile(f"{_GPRO}/ecoli_50_wgan_diffusion_wanglab/ecoli_natural50bp_expr.csv",
                              "9b05702274c3e4214b6ad83a75840d888473d44e3184b542541ca93f6cc38dc4",
                              "genomics/ecoli_natural_promoters_50bp_wang2020.csv"),
            input_column="seq", target_columns=("expr",), task_type="regression", default_split="random",
            metric="pearson", kind="sequences",
            citation=f"Wang Y., Wang H. et al., Nucleic Acids Res. 2020, 48, 6403; {_GPRO_CITE}", license="MIT (GPro)",
        ),
        DatasetSpec(
            name="yeast_regulatory_1000",
            description="Native mRNA abundance of 3,813 S. cerevisiae genes from their 1,000-bp regulatory "
            "sequence (Zrimec et al.); regression.",
            remote=RemoteFile("", "f37ff843a8f8af7753419a24fcff3a4594273d3f0d90a20d458bb27ce2f54042",
                              "genomics/yeast_regulatory_1000bp_zrimec.tsv.gz", mirror_gzip=True,
                              derived_from="WangLabTHU/GPro@93feed74 data/yeast_1000_expression_gan_aleksej/"
                              "train_seq.txt and train_exp.txt pasted side by side under a header "
                              "'sequence<TAB>expression' (values unchanged)"),
            input_column="sequence", target_columns=("expression",), task_type="regression",
            default_split="random", metric="pearson", kind="sequences",
            citation=f"Zrimec J. et al., Nat. Commun. 2022, 13, 5099; {_GPRO_CITE}", license="MIT (GPro)",
        ),
        DatasetSpec(
            name="yeast_random_promoters",
            description="Expression (complex medium) of 3,331 random 80-bp yeast promoter variants with their "
            "plasmid flanks (95-125 nt); the test subset of Vaishnav et al. (the training set is not public "
            "here); regression.",
            remote=RemoteFile("", "46e347e5161de0acb190a846ef2f8e31f58bc0aca91e7a4e7d00b2d2d340cff6",
                              "genomics/yeast_random_promoters_vaishnav2022_complex_test_subset.tsv",
                              derived_from="WangLabTHU/GPro@93feed74 data/yeast_110_evolution_aviv/"
                              "Random_testdata_complex_media.txt with a header line 'sequence<TAB>expression'"),
            input_column="sequence", target_columns=("expression",), task_type="regression",
            default_split="random", metric="pearson", kind="sequences",
            citation=f"Vaishnav E.D., de Boer C.G. et al., Nature 2022, 603, 455; {_GPRO_CITE}", license="MIT (GPro)",
        ),
        DatasetSpec(
            name="pombe_utr3_halflife",
            description="mRNA half-life (hlt, log scale) of 3,713 S. pombe genes from their 3'UTR sequence "
            "(6-5,162 nt); regression. The motif-count columns of the file are not used (they would leak).",
            remote=RemoteFile("https://raw.githubusercontent.com/gagneurlab/concise/"
                              "12078d75f37fe176bb7d221134b8b14aeb48e11f/data/pombe_half-life_UTR3.csv",
                              "243c7904dbaef712b656c2c655ffe593f0f2e6dfa0ec626112a2920fae6d1d03",
                              "genomics/pombe_utr3_halflife_eser2016.csv.gz", mirror_gzip=True),
            input_column="seq", target_columns=("hlt",), task_type="regression", default_split="random",
            metric="pearson", kind="sequences",
            citation="Eser P. et al., Mol. Syst. Biol. 2016, 12, 857; Avsec Z. et al., Bioinformatics 2018 (CONCISE)",
            license="MIT (concise)",
        ),
        DatasetSpec(
            name="chipseq_oct4_mafk",
            description="200-bp ChIP-seq peaks: Oct4 (label 1, 3,897 records) vs Mafk (label 0, 3,900 "
            "records), assembled from two FASTA files (remote: Oct4, extra_files[0]: Mafk); binary.",
            remote=RemoteFile("", "effef1417ad2ca12514d5a4fe72741aaada7b29c16553655c4ed84ad83640e82",
                              "genomics/janggu_oct4_chipseq_200bp.fa.gz", mirror_gzip=True,
                              derived_from="PyPI janggu 0.10.2 wheel, janggu/resources/sample.fa"),
            extra_files=(
                RemoteFile("", "0228f9e016bd91c642526136270b4efef75dc2916f906d47785fbe11c0fb94f8",
                           "genomics/janggu_mafk_chipseq_200bp.fa.gz", mirror_gzip=True,
                           derived_from="PyPI janggu 0.10.2 wheel, janggu/resources/sample2.fa"),
            ),
            input_column="sequence", target_columns=("oct4",), task_type="binary", default_split="stratified",
            metric="roc_auc", kind="sequences",
            citation="Kopp W. et al., Nat. Commun. 2020, 11, 3488 (janggu)", license="GPL-3.0 (janggu)",
        ),
    )


_MOSES = "https://raw.githubusercontent.com/molecularsets/moses/b94468cab4590ced03a98c26a35d3c1e0647d9c9/moses/dataset/data"
_MOSES_CITE = (
    'Polykovskiy D. et al., "Molecular Sets (MOSES): A Benchmarking Platform for Molecular Generation Models", '
    "Front. Pharmacol. 2020, 11, 565644 (doi:10.3389/fphar.2020.565644)"
)


def _smiles_specs() -> tuple[DatasetSpec, ...]:
    """SMILES-only sets for molecule generation (kind "smiles", task "generation"). ``remote`` is the
    training file; ``extra_files`` are the reference sets the MOSES metrics compare against."""
    moses = [
        RemoteFile(f"{_MOSES}/{name}.csv.gz", sha256, f"moses/{name}.csv.gz")
        for name, sha256 in (
            ("train", "786f0313aa6b9ba5514df685f885742a70ea8d86f1a4fa48115f7f80a634265c"),
            ("test", "f896fbf3764f88d94670b9959e5872c600c12152a18233823e820761b7a791b2"),
            ("test_scaffolds", "adffb2192c1bfe31ab0e13154d4af19a37dc18bdbf3cd7b4491e04405128adde"),
        )
    ]
    return (
        DatasetSpec(
            name="moses",
            description="MOSES (ZINC Clean Leads subset): 1,584,663 training molecules (remote); extra_files[0] is "
            "Test (176,074, a random held-out split), extra_files[1] TestSF (176,225 held-out scaffolds).",
            remote=moses[0], extra_files=tuple(moses[1:]),
            input_column="SMILES", target_columns=(), task_type="generation", default_split="random",
            metric="FCD/Test", kind="smiles", citation=_MOSES_CITE, license="MIT (molecularsets/moses)",
        ),
    )


def get_dataset(name: str) -> DatasetSpec:
    """The spec of a public dataset (case-insensitive); a miss lists the valid names."""
    return DATASETS.get(name.strip().lower())


def dataset_names(kind: str | None = None) -> list[str]:
    """Sorted dataset names, optionally only those of one ``kind`` ("molecules", ...)."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown dataset kind {kind!r}; valid kinds: {', '.join(KINDS)}")
    return [n for n in DATASETS.names() if kind is None or DATASETS.get(n).kind == kind]


# Column names of the 617 ToxCast assays, in file order (read from the mirror's header).
_TOXCAST_TASKS = tuple(
    """
    ACEA_T47D_80hr_Negative ACEA_T47D_80hr_Positive APR_HepG2_CellCycleArrest_24h_dn
    APR_HepG2_CellCycleArrest_24h_up APR_HepG2_CellCycleArrest_72h_dn APR_HepG2_CellLoss_24h_dn
    APR_HepG2_CellLoss_72h_dn APR_HepG2_MicrotubuleCSK_24h_dn APR_HepG2_MicrotubuleCSK_24h_up
    APR_HepG2_MicrotubuleCSK_72h_dn APR_HepG2_MicrotubuleCSK_72h_up APR_HepG2_MitoMass_24h_dn
    APR_HepG2_MitoMass_24h_up APR_HepG2_MitoMass_72h_dn APR_HepG2_MitoMass_72h_up
    APR_HepG2_MitoMembPot_1h_dn APR_HepG2_MitoMembPot_24h_dn APR_HepG2_MitoMembPot_72h_dn
    APR_HepG2_MitoticArrest_24h_up APR_HepG2_MitoticArrest_72h_up APR_HepG2_NuclearSize_24h_dn
    APR_HepG2_NuclearSize_72h_dn APR_HepG2_NuclearSize_72h_up APR_HepG2_OxidativeStress_24h_up
    APR_HepG2_OxidativeStress_72h_up APR_HepG2_StressKinase_1h_up APR_HepG2_StressKinase_24h_up
    APR_HepG2_StressKinase_72h_up APR_HepG2_p53Act_24h_up APR_HepG2_p53Act_72h_up
    APR_Hepat_Apoptosis_24hr_up APR_Hepat_Apoptosis_48hr_up APR_Hepat_CellLoss_24hr_dn
    APR_Hepat_CellLoss_48hr_dn APR_Hepat_DNADamage_24hr_up APR_Hepat_DNADamage_48hr_up
    APR_Hepat_DNATexture_24hr_up APR_Hepat_DNATexture_48hr_up APR_Hepat_MitoFxnI_1hr_dn
    APR_Hepat_MitoFxnI_24hr_dn APR_Hepat_MitoFxnI_48hr_dn APR_Hepat_NuclearSize_24hr_dn
    APR_Hepat_NuclearSize_48hr_dn APR_Hepat_Steatosis_24hr_up APR_Hepat_Steatosis_48hr_up
    ATG_AP_1_CIS_dn ATG_AP_1_CIS_up ATG_AP_2_CIS_dn ATG_AP_2_CIS_up ATG_AR_TRANS_dn ATG_AR_TRANS_up
    ATG_Ahr_CIS_dn ATG_Ahr_CIS_up ATG_BRE_CIS_dn ATG_BRE_CIS_up ATG_CAR_TRANS_dn ATG_CAR_TRANS_up
    ATG_CMV_CIS_dn ATG_CMV_CIS_up ATG_CRE_CIS_dn ATG_CRE_CIS_up ATG_C_EBP_CIS_dn ATG_C_EBP_CIS_up
    ATG_DR4_LXR_CIS_dn ATG_DR4_LXR_CIS_up ATG_DR5_CIS_dn ATG_DR5_CIS_up ATG_E2F_CIS_dn
    ATG_E2F_CIS_up ATG_EGR_CIS_up ATG_ERE_CIS_dn ATG_ERE_CIS_up ATG_ERRa_TRANS_dn ATG_ERRg_TRANS_dn
    ATG_ERRg_TRANS_up ATG_ERa_TRANS_up ATG_E_Box_CIS_dn ATG_E_Box_CIS_up ATG_Ets_CIS_dn
    ATG_Ets_CIS_up ATG_FXR_TRANS_up ATG_FoxA2_CIS_dn ATG_FoxA2_CIS_up ATG_FoxO_CIS_dn
    ATG_FoxO_CIS_up ATG_GAL4_TRANS_dn ATG_GATA_CIS_dn ATG_GATA_CIS_up ATG_GLI_CIS_dn ATG_GLI_CIS_up
    ATG_GRE_CIS_dn ATG_GRE_CIS_up ATG_GR_TRANS_dn ATG_GR_TRANS_up ATG_HIF1a_CIS_dn ATG_HIF1a_CIS_up
    ATG_HNF4a_TRANS_dn ATG_HNF4a_TRANS_up ATG_HNF6_CIS_dn ATG_HNF6_CIS_up ATG_HSE_CIS_dn
    ATG_HSE_CIS_up ATG_IR1_CIS_dn ATG_IR1_CIS_up ATG_ISRE_CIS_dn ATG_ISRE_CIS_up ATG_LXRa_TRANS_dn
    ATG_LXRa_TRANS_up ATG_LXRb_TRANS_dn ATG_LXRb_TRANS_up ATG_MRE_CIS_up ATG_M_06_TRANS_up
    ATG_M_19_CIS_dn ATG_M_19_TRANS_dn ATG_M_19_TRANS_up ATG_M_32_CIS_dn ATG_M_32_CIS_up
    ATG_M_32_TRANS_dn ATG_M_32_TRANS_up ATG_M_61_TRANS_up ATG_Myb_CIS_dn ATG_Myb_CIS_up
    ATG_Myc_CIS_dn ATG_Myc_CIS_up ATG_NFI_CIS_dn ATG_NFI_CIS_up ATG_NF_kB_CIS_dn ATG_NF_kB_CIS_up
    ATG_NRF1_CIS_dn ATG_NRF1_CIS_up ATG_NRF2_ARE_CIS_dn ATG_NRF2_ARE_CIS_up ATG_NURR1_TRANS_dn
    ATG_NURR1_TRANS_up ATG_Oct_MLP_CIS_dn ATG_Oct_MLP_CIS_up ATG_PBREM_CIS_dn ATG_PBREM_CIS_up
    ATG_PPARa_TRANS_dn ATG_PPARa_TRANS_up ATG_PPARd_TRANS_up ATG_PPARg_TRANS_up ATG_PPRE_CIS_dn
    ATG_PPRE_CIS_up ATG_PXRE_CIS_dn ATG_PXRE_CIS_up ATG_PXR_TRANS_dn ATG_PXR_TRANS_up
    ATG_Pax6_CIS_up ATG_RARa_TRANS_dn ATG_RARa_TRANS_up ATG_RARb_TRANS_dn ATG_RARb_TRANS_up
    ATG_RARg_TRANS_dn ATG_RARg_TRANS_up ATG_RORE_CIS_dn ATG_RORE_CIS_up ATG_RORb_TRANS_dn
    ATG_RORg_TRANS_dn ATG_RORg_TRANS_up ATG_RXRa_TRANS_dn ATG_RXRa_TRANS_up ATG_RXRb_TRANS_dn
    ATG_RXRb_TRANS_up ATG_SREBP_CIS_dn ATG_SREBP_CIS_up ATG_STAT3_CIS_dn ATG_STAT3_CIS_up
    ATG_Sox_CIS_dn ATG_Sox_CIS_up ATG_Sp1_CIS_dn ATG_Sp1_CIS_up ATG_TAL_CIS_dn ATG_TAL_CIS_up
    ATG_TA_CIS_dn ATG_TA_CIS_up ATG_TCF_b_cat_CIS_dn ATG_TCF_b_cat_CIS_up ATG_TGFb_CIS_dn
    ATG_TGFb_CIS_up ATG_THRa1_TRANS_dn ATG_THRa1_TRANS_up ATG_VDRE_CIS_dn ATG_VDRE_CIS_up
    ATG_VDR_TRANS_dn ATG_VDR_TRANS_up ATG_XTT_Cytotoxicity_up ATG_Xbp1_CIS_dn ATG_Xbp1_CIS_up
    ATG_p53_CIS_dn ATG_p53_CIS_up BSK_3C_Eselectin_down BSK_3C_HLADR_down BSK_3C_ICAM1_down
    BSK_3C_IL8_down BSK_3C_MCP1_down BSK_3C_MIG_down BSK_3C_Proliferation_down BSK_3C_SRB_down
    BSK_3C_Thrombomodulin_down BSK_3C_Thrombomodulin_up BSK_3C_TissueFactor_down
    BSK_3C_TissueFactor_up BSK_3C_VCAM1_down BSK_3C_Vis_down BSK_3C_uPAR_down BSK_4H_Eotaxin3_down
    BSK_4H_MCP1_down BSK_4H_Pselectin_down BSK_4H_Pselectin_up BSK_4H_SRB_down BSK_4H_VCAM1_down
    BSK_4H_VEGFRII_down BSK_4H_uPAR_down BSK_4H_uPAR_up BSK_BE3C_HLADR_down BSK_BE3C_IL1a_down
    BSK_BE3C_IP10_down BSK_BE3C_MIG_down BSK_BE3C_MMP1_down BSK_BE3C_MMP1_up BSK_BE3C_PAI1_down
    BSK_BE3C_SRB_down BSK_BE3C_TGFb1_down BSK_BE3C_tPA_down BSK_BE3C_uPAR_down BSK_BE3C_uPAR_up
    BSK_BE3C_uPA_down BSK_CASM3C_HLADR_down BSK_CASM3C_IL6_down BSK_CASM3C_IL6_up
    BSK_CASM3C_IL8_down BSK_CASM3C_LDLR_down BSK_CASM3C_LDLR_up BSK_CASM3C_MCP1_down
    BSK_CASM3C_MCP1_up BSK_CASM3C_MCSF_down BSK_CASM3C_MCSF_up BSK_CASM3C_MIG_down
    BSK_CASM3C_Proliferation_down BSK_CASM3C_Proliferation_up BSK_CASM3C_SAA_down BSK_CASM3C_SAA_up
    BSK_CASM3C_SRB_down BSK_CASM3C_Thrombomodulin_down BSK_CASM3C_Thrombomodulin_up
    BSK_CASM3C_TissueFactor_down BSK_CASM3C_VCAM1_down BSK_CASM3C_VCAM1_up BSK_CASM3C_uPAR_down
    BSK_CASM3C_uPAR_up BSK_KF3CT_ICAM1_down BSK_KF3CT_IL1a_down BSK_KF3CT_IP10_down
    BSK_KF3CT_IP10_up BSK_KF3CT_MCP1_down BSK_KF3CT_MCP1_up BSK_KF3CT_MMP9_down BSK_KF3CT_SRB_down
    BSK_KF3CT_TGFb1_down BSK_KF3CT_TIMP2_down BSK_KF3CT_uPA_down BSK_LPS_CD40_down
    BSK_LPS_Eselectin_down BSK_LPS_Eselectin_up BSK_LPS_IL1a_down BSK_LPS_IL1a_up BSK_LPS_IL8_down
    BSK_LPS_IL8_up BSK_LPS_MCP1_down BSK_LPS_MCSF_down BSK_LPS_PGE2_down BSK_LPS_PGE2_up
    BSK_LPS_SRB_down BSK_LPS_TNFa_down BSK_LPS_TNFa_up BSK_LPS_TissueFactor_down
    BSK_LPS_TissueFactor_up BSK_LPS_VCAM1_down BSK_SAg_CD38_down BSK_SAg_CD40_down BSK_SAg_CD69_down
    BSK_SAg_Eselectin_down BSK_SAg_Eselectin_up BSK_SAg_IL8_down BSK_SAg_IL8_up BSK_SAg_MCP1_down
    BSK_SAg_MIG_down BSK_SAg_PBMCCytotoxicity_down BSK_SAg_PBMCCytotoxicity_up
    BSK_SAg_Proliferation_down BSK_SAg_SRB_down BSK_hDFCGF_CollagenIII_down BSK_hDFCGF_EGFR_down
    BSK_hDFCGF_EGFR_up BSK_hDFCGF_IL8_down BSK_hDFCGF_IP10_down BSK_hDFCGF_MCSF_down
    BSK_hDFCGF_MIG_down BSK_hDFCGF_MMP1_down BSK_hDFCGF_MMP1_up BSK_hDFCGF_PAI1_down
    BSK_hDFCGF_Proliferation_down BSK_hDFCGF_SRB_down BSK_hDFCGF_TIMP1_down BSK_hDFCGF_VCAM1_down
    CEETOX_H295R_11DCORT_dn CEETOX_H295R_ANDR_dn CEETOX_H295R_CORTISOL_dn CEETOX_H295R_DOC_dn
    CEETOX_H295R_DOC_up CEETOX_H295R_ESTRADIOL_dn CEETOX_H295R_ESTRADIOL_up CEETOX_H295R_ESTRONE_dn
    CEETOX_H295R_ESTRONE_up CEETOX_H295R_OHPREG_up CEETOX_H295R_OHPROG_dn CEETOX_H295R_OHPROG_up
    CEETOX_H295R_PROG_up CEETOX_H295R_TESTO_dn CLD_ABCB1_48hr CLD_ABCG2_48hr CLD_CYP1A1_24hr
    CLD_CYP1A1_48hr CLD_CYP1A1_6hr CLD_CYP1A2_24hr CLD_CYP1A2_48hr CLD_CYP1A2_6hr CLD_CYP2B6_24hr
    CLD_CYP2B6_48hr CLD_CYP2B6_6hr CLD_CYP3A4_24hr CLD_CYP3A4_48hr CLD_CYP3A4_6hr CLD_GSTA2_48hr
    CLD_SULT2A_24hr CLD_SULT2A_48hr CLD_UGT1A1_24hr CLD_UGT1A1_48hr NCCT_HEK293T_CellTiterGLO
    NCCT_QuantiLum_inhib_2_dn NCCT_QuantiLum_inhib_dn NCCT_TPO_AUR_dn NCCT_TPO_GUA_dn
    NHEERL_ZF_144hpf_TERATOSCORE_up NVS_ADME_hCYP19A1 NVS_ADME_hCYP1A1 NVS_ADME_hCYP1A2
    NVS_ADME_hCYP2A6 NVS_ADME_hCYP2B6 NVS_ADME_hCYP2C19 NVS_ADME_hCYP2C9 NVS_ADME_hCYP2D6
    NVS_ADME_hCYP3A4 NVS_ADME_hCYP4F12 NVS_ADME_rCYP2C12 NVS_ENZ_hAChE NVS_ENZ_hAMPKa1 NVS_ENZ_hAurA
    NVS_ENZ_hBACE NVS_ENZ_hCASP5 NVS_ENZ_hCK1D NVS_ENZ_hDUSP3 NVS_ENZ_hES NVS_ENZ_hElastase
    NVS_ENZ_hFGFR1 NVS_ENZ_hGSK3b NVS_ENZ_hMMP1 NVS_ENZ_hMMP13 NVS_ENZ_hMMP2 NVS_ENZ_hMMP3
    NVS_ENZ_hMMP7 NVS_ENZ_hMMP9 NVS_ENZ_hPDE10 NVS_ENZ_hPDE4A1 NVS_ENZ_hPDE5 NVS_ENZ_hPI3Ka
    NVS_ENZ_hPTEN NVS_ENZ_hPTPN11 NVS_ENZ_hPTPN12 NVS_ENZ_hPTPN13 NVS_ENZ_hPTPN9 NVS_ENZ_hPTPRC
    NVS_ENZ_hSIRT1 NVS_ENZ_hSIRT2 NVS_ENZ_hTrkA NVS_ENZ_hVEGFR2 NVS_ENZ_oCOX1 NVS_ENZ_oCOX2
    NVS_ENZ_rAChE NVS_ENZ_rCNOS NVS_ENZ_rMAOAC NVS_ENZ_rMAOAP NVS_ENZ_rMAOBC NVS_ENZ_rMAOBP
    NVS_ENZ_rabI2C NVS_GPCR_bAdoR_NonSelective NVS_GPCR_bDR_NonSelective NVS_GPCR_g5HT4 NVS_GPCR_gH2
    NVS_GPCR_gLTB4 NVS_GPCR_gLTD4 NVS_GPCR_gMPeripheral_NonSelective NVS_GPCR_gOpiateK
    NVS_GPCR_h5HT2A NVS_GPCR_h5HT5A NVS_GPCR_h5HT6 NVS_GPCR_h5HT7 NVS_GPCR_hAT1 NVS_GPCR_hAdoRA1
    NVS_GPCR_hAdoRA2a NVS_GPCR_hAdra2A NVS_GPCR_hAdra2C NVS_GPCR_hAdrb1 NVS_GPCR_hAdrb2
    NVS_GPCR_hAdrb3 NVS_GPCR_hDRD1 NVS_GPCR_hDRD2s NVS_GPCR_hDRD4.4 NVS_GPCR_hH1 NVS_GPCR_hLTB4_BLT1
    NVS_GPCR_hM1 NVS_GPCR_hM2 NVS_GPCR_hM3 NVS_GPCR_hM4 NVS_GPCR_hNK2 NVS_GPCR_hOpiate_D1
    NVS_GPCR_hOpiate_mu NVS_GPCR_hTXA2 NVS_GPCR_p5HT2C NVS_GPCR_r5HT1_NonSelective
    NVS_GPCR_r5HT_NonSelective NVS_GPCR_rAdra1B NVS_GPCR_rAdra1_NonSelective
    NVS_GPCR_rAdra2_NonSelective NVS_GPCR_rAdrb_NonSelective NVS_GPCR_rNK1 NVS_GPCR_rNK3
    NVS_GPCR_rOpiate_NonSelective NVS_GPCR_rOpiate_NonSelectiveNa NVS_GPCR_rSST NVS_GPCR_rTRH
    NVS_GPCR_rV1 NVS_GPCR_rabPAF NVS_GPCR_rmAdra2B NVS_IC_hKhERGCh NVS_IC_rCaBTZCHL
    NVS_IC_rCaDHPRCh_L NVS_IC_rNaCh_site2 NVS_LGIC_bGABARa1 NVS_LGIC_h5HT3 NVS_LGIC_hNNR_NBungSens
    NVS_LGIC_rGABAR_NonSelective NVS_LGIC_rNNR_BungSens NVS_MP_hPBR NVS_MP_rPBR NVS_NR_bER
    NVS_NR_bPR NVS_NR_cAR NVS_NR_hAR NVS_NR_hCAR_Antagonist NVS_NR_hER NVS_NR_hFXR_Agonist
    NVS_NR_hFXR_Antagonist NVS_NR_hGR NVS_NR_hPPARa NVS_NR_hPPARg NVS_NR_hPR NVS_NR_hPXR
    NVS_NR_hRAR_Antagonist NVS_NR_hRARa_Agonist NVS_NR_hTRa_Antagonist NVS_NR_mERa NVS_NR_rAR
    NVS_NR_rMR NVS_OR_gSIGMA_NonSelective NVS_TR_gDAT NVS_TR_hAdoT NVS_TR_hDAT NVS_TR_hNET
    NVS_TR_hSERT NVS_TR_rNET NVS_TR_rSERT NVS_TR_rVMAT2 OT_AR_ARELUC_AG_1440 OT_AR_ARSRC1_0480
    OT_AR_ARSRC1_0960 OT_ER_ERaERa_0480 OT_ER_ERaERa_1440 OT_ER_ERaERb_0480 OT_ER_ERaERb_1440
    OT_ER_ERbERb_0480 OT_ER_ERbERb_1440 OT_ERa_EREGFP_0120 OT_ERa_EREGFP_0480 OT_FXR_FXRSRC1_0480
    OT_FXR_FXRSRC1_1440 OT_NURR1_NURR1RXRa_0480 OT_NURR1_NURR1RXRa_1440 TOX21_ARE_BLA_Agonist_ch1
    TOX21_ARE_BLA_Agonist_ch2 TOX21_ARE_BLA_agonist_ratio TOX21_ARE_BLA_agonist_viability
    TOX21_AR_BLA_Agonist_ch1 TOX21_AR_BLA_Agonist_ch2 TOX21_AR_BLA_Agonist_ratio
    TOX21_AR_BLA_Antagonist_ch1 TOX21_AR_BLA_Antagonist_ch2 TOX21_AR_BLA_Antagonist_ratio
    TOX21_AR_BLA_Antagonist_viability TOX21_AR_LUC_MDAKB2_Agonist TOX21_AR_LUC_MDAKB2_Antagonist
    TOX21_AR_LUC_MDAKB2_Antagonist2 TOX21_AhR_LUC_Agonist TOX21_Aromatase_Inhibition
    TOX21_AutoFluor_HEK293_Cell_blue TOX21_AutoFluor_HEK293_Media_blue
    TOX21_AutoFluor_HEPG2_Cell_blue TOX21_AutoFluor_HEPG2_Cell_green
    TOX21_AutoFluor_HEPG2_Media_blue TOX21_AutoFluor_HEPG2_Media_green TOX21_ELG1_LUC_Agonist
    TOX21_ERa_BLA_Agonist_ch1 TOX21_ERa_BLA_Agonist_ch2 TOX21_ERa_BLA_Agonist_ratio
    TOX21_ERa_BLA_Antagonist_ch1 TOX21_ERa_BLA_Antagonist_ch2 TOX21_ERa_BLA_Antagonist_ratio
    TOX21_ERa_BLA_Antagonist_viability TOX21_ERa_LUC_BG1_Agonist TOX21_ERa_LUC_BG1_Antagonist
    TOX21_ESRE_BLA_ch1 TOX21_ESRE_BLA_ch2 TOX21_ESRE_BLA_ratio TOX21_ESRE_BLA_viability
    TOX21_FXR_BLA_Antagonist_ch1 TOX21_FXR_BLA_Antagonist_ch2 TOX21_FXR_BLA_agonist_ch2
    TOX21_FXR_BLA_agonist_ratio TOX21_FXR_BLA_antagonist_ratio TOX21_FXR_BLA_antagonist_viability
    TOX21_GR_BLA_Agonist_ch1 TOX21_GR_BLA_Agonist_ch2 TOX21_GR_BLA_Agonist_ratio
    TOX21_GR_BLA_Antagonist_ch2 TOX21_GR_BLA_Antagonist_ratio TOX21_GR_BLA_Antagonist_viability
    TOX21_HSE_BLA_agonist_ch1 TOX21_HSE_BLA_agonist_ch2 TOX21_HSE_BLA_agonist_ratio
    TOX21_HSE_BLA_agonist_viability TOX21_MMP_ratio_down TOX21_MMP_ratio_up TOX21_MMP_viability
    TOX21_NFkB_BLA_agonist_ch1 TOX21_NFkB_BLA_agonist_ch2 TOX21_NFkB_BLA_agonist_ratio
    TOX21_NFkB_BLA_agonist_viability TOX21_PPARd_BLA_Agonist_viability
    TOX21_PPARd_BLA_Antagonist_ch1 TOX21_PPARd_BLA_agonist_ch1 TOX21_PPARd_BLA_agonist_ch2
    TOX21_PPARd_BLA_agonist_ratio TOX21_PPARd_BLA_antagonist_ratio
    TOX21_PPARd_BLA_antagonist_viability TOX21_PPARg_BLA_Agonist_ch1 TOX21_PPARg_BLA_Agonist_ch2
    TOX21_PPARg_BLA_Agonist_ratio TOX21_PPARg_BLA_Antagonist_ch1 TOX21_PPARg_BLA_antagonist_ratio
    TOX21_PPARg_BLA_antagonist_viability TOX21_TR_LUC_GH3_Agonist TOX21_TR_LUC_GH3_Antagonist
    TOX21_VDR_BLA_Agonist_viability TOX21_VDR_BLA_Antagonist_ch1 TOX21_VDR_BLA_agonist_ch2
    TOX21_VDR_BLA_agonist_ratio TOX21_VDR_BLA_antagonist_ratio TOX21_VDR_BLA_antagonist_viability
    TOX21_p53_BLA_p1_ch1 TOX21_p53_BLA_p1_ch2 TOX21_p53_BLA_p1_ratio TOX21_p53_BLA_p1_viability
    TOX21_p53_BLA_p2_ch1 TOX21_p53_BLA_p2_ch2 TOX21_p53_BLA_p2_ratio TOX21_p53_BLA_p2_viability
    TOX21_p53_BLA_p3_ch1 TOX21_p53_BLA_p3_ch2 TOX21_p53_BLA_p3_ratio TOX21_p53_BLA_p3_viability
    TOX21_p53_BLA_p4_ch1 TOX21_p53_BLA_p4_ch2 TOX21_p53_BLA_p4_ratio TOX21_p53_BLA_p4_viability
    TOX21_p53_BLA_p5_ch1 TOX21_p53_BLA_p5_ch2 TOX21_p53_BLA_p5_ratio TOX21_p53_BLA_p5_viability
    Tanguay_ZF_120hpf_AXIS_up Tanguay_ZF_120hpf_ActivityScore Tanguay_ZF_120hpf_BRAI_up
    Tanguay_ZF_120hpf_CFIN_up Tanguay_ZF_120hpf_CIRC_up Tanguay_ZF_120hpf_EYE_up
    Tanguay_ZF_120hpf_JAW_up Tanguay_ZF_120hpf_MORT_up Tanguay_ZF_120hpf_OTIC_up
    Tanguay_ZF_120hpf_PE_up Tanguay_ZF_120hpf_PFIN_up Tanguay_ZF_120hpf_PIG_up
    Tanguay_ZF_120hpf_SNOU_up Tanguay_ZF_120hpf_SOMI_up Tanguay_ZF_120hpf_SWIM_up
    Tanguay_ZF_120hpf_TRUN_up Tanguay_ZF_120hpf_TR_up Tanguay_ZF_120hpf_YSE_up
    """.split()
)

DATASETS: Registry[DatasetSpec] = Registry(
    "dataset", {s.name: s for s in (*_build_specs(), *_sequence_specs(), *_smiles_specs())}
)
