"""RDKit scores: values against published/hand-computed numbers and the registry's names."""

from __future__ import annotations

import pytest
from rdkit import Chem

from molgen.chem.scores import SCORES, logp, molecular_weight, qed, sa_score
from molgen.registry import UnknownNameError

ASPIRIN = Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O")


def test_molecular_weight_matches_atomic_masses():
    # C2H6O: 2 * 12.011 + 6 * 1.008 + 15.999 = 46.069 g/mol
    assert molecular_weight(Chem.MolFromSmiles("CCO")) == pytest.approx(46.069, abs=1e-3)
    assert molecular_weight(ASPIRIN) == pytest.approx(180.159, abs=1e-3)


def test_crippen_logp_sums_atom_contributions():
    # Benzene: 6 aromatic C (C18, 0.1581) + 6 aromatic H (H1, 0.1230) = 1.6866
    assert logp(Chem.MolFromSmiles("c1ccccc1")) == pytest.approx(1.6866, abs=1e-4)


def test_qed_of_aspirin_matches_bickerton():
    # Bickerton et al. 2012 / RDKit docs: QED(aspirin) = 0.55
    assert qed(ASPIRIN) == pytest.approx(0.550, abs=0.005)


def test_sa_score_orders_simple_before_complex():
    benzene = sa_score(Chem.MolFromSmiles("c1ccccc1"))
    cage = sa_score(Chem.MolFromSmiles("C1CC2CC3CC1C23C4(C5)CC5C4"))
    assert benzene == pytest.approx(1.0, abs=0.01)  # smallest possible score (clipped at 1)
    assert 1.0 <= benzene < cage <= 10.0
    assert sa_score(ASPIRIN) == pytest.approx(1.58, abs=0.01)


def test_registry_names_and_miss():
    assert SCORES.names() == ["logp", "mw", "qed", "sa"]
    assert SCORES.get("qed") is qed
    with pytest.raises(UnknownNameError, match="valid names: logp, mw, qed, sa"):
        SCORES.get("tpsa")
