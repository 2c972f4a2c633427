"""The SELFIES GRU prior: tokenisation, and samples that are valid molecules."""

from __future__ import annotations

import json

import pytest
import torch

from specialists.molecules.assets import PRIOR_PATH
from specialists.molecules.generation_metrics import canonical_or_none, generation_metrics
from specialists.molecules.prior import Prior, SmilesGRU, Vocabulary, tokenize


def test_tokenize_keeps_brackets_and_halogens() -> None:
    assert tokenize("Clc1ccc[nH]1Br") == ["Cl", "c", "1", "c", "c", "c", "[nH]", "1", "Br"]
    assert tokenize("[C][=C][Branch1]") == ["[C]", "[=C]", "[Branch1]"]


def test_vocabulary_round_trip_and_unknown_token() -> None:
    v = Vocabulary.build(["[C][O]", "[N][=C]"])
    ids = v.encode("[C][=C][O]")
    assert ids is not None and v.decode(ids[1:]) == "[C][=C][O]"
    assert v.encode("[Si]") is None


def test_untrained_selfies_model_still_decodes_to_molecules() -> None:
    torch.manual_seed(0)
    v = Vocabulary.build(["[C][C][O]", "[C][=C][C][=C][C][=C][Ring1][=Branch1]"])
    prior = Prior(SmilesGRU(len(v.tokens), hidden=16, layers=1), v, max_len=20, language="selfies")
    smiles, ids, logp = prior.sample(20, generator=torch.Generator().manual_seed(0))
    assert len(smiles) == 20 and ids.shape[0] == 20 and torch.all(logp <= 0)
    assert torch.allclose(prior.log_likelihood(ids), logp, atol=1e-4)


def _stored() -> dict:
    return json.loads(PRIOR_PATH.with_name("prior_metrics.json").read_text())["metrics"]


@pytest.mark.skipif(not PRIOR_PATH.is_file(), reason="prior weights not trained")
def test_shipped_prior_samples_recompute_the_stored_validity_and_uniqueness() -> None:
    """200 fresh samples (fixed seed) against the 10,000-sample figures recorded at training."""
    prior = Prior.load(PRIOR_PATH)
    smiles, _, _ = prior.sample(200, generator=torch.Generator().manual_seed(0))
    m = generation_metrics(smiles, train=frozenset())
    stored = _stored()
    assert m["validity"] == pytest.approx(stored["validity"], abs=0.02)
    assert m["unique@200"] == pytest.approx(stored["unique@10000"], abs=0.03)
    assert sum(canonical_or_none(s) is not None for s in smiles) >= 190


@pytest.mark.slow
@pytest.mark.skipif(not PRIOR_PATH.is_file(), reason="prior weights not trained")
def test_shipped_prior_recomputes_the_stored_novelty_and_diversity() -> None:
    """1,000 fresh samples against the MOSES training set: novelty and IntDiv1 within sampling error."""
    from specialists.molecules.generation_metrics import moses_train_set

    prior = Prior.load(PRIOR_PATH)
    smiles, _, _ = prior.sample(1000, generator=torch.Generator().manual_seed(1))
    m = generation_metrics(smiles, train=moses_train_set())
    stored = _stored()
    assert m["novelty"] == pytest.approx(stored["novelty"], abs=0.02)
    assert m["int_div1"] == pytest.approx(stored["int_div1"], abs=0.02)


@pytest.mark.skipif(not PRIOR_PATH.is_file(), reason="prior weights not trained")
def test_prior_metrics_provenance() -> None:
    """Provenance check of the recorded figures (the recomputing tests are above): sample count, seed, data hash."""
    rec = json.loads(PRIOR_PATH.with_name("prior_metrics.json").read_text())
    assert rec["metrics"]["n_samples"] == 10000 and rec["train"]["seed"] == 7
    assert len(rec["train"]["data_sha256"]) == 64
