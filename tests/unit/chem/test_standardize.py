"""Optional standardization: one parent per salt/charge form, applied inside featurization (so train, predict
and screen agree), invalid with a reason when nothing organic is left."""

from __future__ import annotations

import numpy as np
import pytest

from molgen.chem.featurize.graphs import FeaturizerSpec, featurize_smiles
from molgen.chem.molecules import parse_smiles
from molgen.chem.standardize import EMPTIED, standardize_smiles
from molgen.errors import ConfigError


@pytest.mark.parametrize("smiles", ["CC(=O)[O-].[Na+]", "CC(=O)[O-]", "CC(=O)O", "CC(=O)O.O"])
def test_salts_and_charges_give_the_parent(smiles):
    assert standardize_smiles(smiles, "basic") == ("CC(=O)O", None)


def test_tautomer_mode_and_inorganic_inputs():
    assert standardize_smiles("Oc1ccccn1", "basic") == ("Oc1ccccn1", None)
    assert standardize_smiles("Oc1ccccn1", "tautomer") == ("O=c1cccc[nH]1", None)
    assert standardize_smiles("[Na+].[Cl-]", "basic") == (None, EMPTIED)
    assert standardize_smiles("N.N.Cl[Pt]Cl", "basic") == (None, EMPTIED)  # cisplatin: no organic fragment
    assert standardize_smiles("O", "basic") == ("O", None)  # one inorganic molecule is kept
    with pytest.raises(ConfigError, match="valid modes: none, basic, tautomer"):
        standardize_smiles("C", "full")


def test_whitespace_inside_a_smiles_is_invalid():
    assert parse_smiles("CC O") == (None, "whitespace inside SMILES")
    assert parse_smiles("c1ccccc1\tbenzene")[1] == "whitespace inside SMILES"
    assert parse_smiles(" CCO \n")[0] is not None


def test_featurizer_spec_applies_and_stores_it():
    assert "standardize" not in FeaturizerSpec().to_dict()  # older model.yaml files stay as they were
    spec = FeaturizerSpec(standardize="basic")
    assert FeaturizerSpec.from_dict(spec.to_dict()) == spec
    result = featurize_smiles(["CC(=O)[O-].[Na+]", "CC(=O)O", "[Na+].[Cl-]"], spec)
    assert result.valid_index.tolist() == [0, 1] and result.invalid[0].reason == EMPTIED
    graphs = result.graphs
    assert np.array_equal(graphs.atom_features[:4], graphs.atom_features[4:8])
    plain = featurize_smiles(["CC(=O)[O-].[Na+]", "CC(=O)O"], FeaturizerSpec())
    assert plain.graphs.atom_ptr.tolist() == [0, 5, 9]  # as given: the sodium stays
