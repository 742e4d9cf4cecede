"""RDKit 2D descriptors: dims, finiteness, wiring into featurize_smiles."""

import numpy as np
from rdkit import Chem
from rdkit.Chem import Descriptors

from molgen.chem.descriptors import compute_descriptors, descriptor_names
from molgen.chem.featurize.graphs import FeaturizerSpec, featurize_smiles


def test_names_follow_rdkit_standard_list():
    assert descriptor_names() == tuple(name for name, _ in Descriptors._descList)
    assert FeaturizerSpec(descriptors=True).mol_feature_dim == len(descriptor_names()) > 200


def test_values_are_float32_finite_and_non_finite_become_zero():
    mols = [Chem.MolFromSmiles(s) for s in ["CCO", "[Na+].[Cl-]"]]
    features = compute_descriptors(mols)
    assert features.shape == (2, len(descriptor_names())) and features.dtype == np.float32
    assert np.isfinite(features).all()
    raw = Descriptors.CalcMolDescriptors(mols[1], missingVal=float("nan"))
    nan_names = [name for name, value in raw.items() if not np.isfinite(value)]
    assert nan_names  # BCUT2D of a salt is undefined in RDKit...
    columns = [descriptor_names().index(name) for name in nan_names]
    assert (features[1, columns] == 0).all()  # ...and stored as 0
    weight = descriptor_names().index("MolWt")
    assert features[0, weight] == np.float32(Descriptors.MolWt(mols[0]))


def test_featurize_with_descriptors_adds_mol_features_for_valid_rows():
    result = featurize_smiles(["CCO", "xyz", "c1ccccc1"], FeaturizerSpec(descriptors=True))
    mol_features = result.graphs.mol_features
    assert mol_features.shape == (2, FeaturizerSpec(descriptors=True).mol_feature_dim)
    expected = compute_descriptors([Chem.MolFromSmiles("CCO"), Chem.MolFromSmiles("c1ccccc1")])
    np.testing.assert_array_equal(mol_features, expected)
    batch = result.graphs.collate([1, 0])
    assert batch.mol_features.shape == (2, mol_features.shape[1])
    assert featurize_smiles(["CCO"]).graphs.mol_features is None
