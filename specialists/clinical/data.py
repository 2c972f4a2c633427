"""The two scikit-survival data sets the clinical models are trained on, as plain arrays.

``load_breast_cancer``: 198 node-negative patients (Desmedt et al. 2007, GEO GSE7390), 76
gene-expression probes plus age, ER status, grade and tumour size (cm); outcome: time to
distant metastasis (days). ``load_gbsg2``: 686 patients of the German Breast Cancer Study
Group 2 trial (Schumacher et al. 1994); outcome: recurrence-free survival (days).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

CLINICAL_FEATURES = ["age", "er_positive", "grade"]
SIZE_FEATURE = "size_cm"
GRADE_MAP = {"well differentiated": 1.0, "intermediate": 2.0, "poorly differentiated": 3.0}


@dataclass(frozen=True)
class BreastCancerData:
    clinical: np.ndarray  # age, er_positive (0/1), grade (1-3)
    size: np.ndarray  # tumour size in cm, shape (n, 1)
    genes: np.ndarray  # 76 probes (log expression as published)
    probes: list[str]
    time: np.ndarray
    event: np.ndarray
    sha256: str


def load_breast_cancer_arrays() -> BreastCancerData:
    """The breast-cancer gene-expression set as arrays (unknown grade, 2 patients, set to 2)."""
    from sksurv.datasets import load_breast_cancer

    x, y = load_breast_cancer()
    probes = [c for c in x.columns if c not in ("age", "er", "grade", "size")]
    grade = x["grade"].astype(str).map(GRADE_MAP).fillna(2.0).to_numpy(float)
    clinical = np.column_stack([x["age"].to_numpy(float), (x["er"].astype(str) == "positive").to_numpy(float), grade])
    genes = x[probes].to_numpy(float)
    time = y["t.tdm"].astype(float)
    event = y["e.tdm"].astype(bool)
    digest = hashlib.sha256(np.ascontiguousarray(np.column_stack([clinical, genes, time, event])).tobytes()).hexdigest()
    return BreastCancerData(clinical, x["size"].to_numpy(float)[:, None], genes, probes, time, event, digest)


GBSG2_FEATURES = ["age", "postmenopausal", "tsize_mm", "grade", "log_pnodes", "log_progrec", "log_estrec"]


@dataclass(frozen=True)
class Gbsg2Data:
    x: np.ndarray  # GBSG2_FEATURES
    treated: np.ndarray  # hormonal therapy (0/1)
    time: np.ndarray
    event: np.ndarray
    raw: dict[str, np.ndarray]
    sha256: str


def gbsg2_row(age: float, menopausal: str, tsize_mm: float, grade: int, pnodes: float,
              progrec: float, estrec: float) -> np.ndarray:
    """One patient's covariates in the model's coding (receptors and nodes log-transformed)."""
    return np.array([age, 1.0 if menopausal == "post" else 0.0, tsize_mm, float(grade),
                     np.log1p(pnodes), np.log1p(progrec), np.log1p(estrec)])


def load_gbsg2_arrays() -> Gbsg2Data:
    """GBSG2 as arrays in the coding of :func:`gbsg2_row`."""
    from sksurv.datasets import load_gbsg2

    x, y = load_gbsg2()
    grade = x["tgrade"].astype(str).map({"I": 1, "II": 2, "III": 3}).to_numpy(float)
    meno = (x["menostat"].astype(str) == "Post").to_numpy(float)
    mat = np.column_stack([x["age"], meno, x["tsize"], grade, np.log1p(x["pnodes"]),
                           np.log1p(x["progrec"]), np.log1p(x["estrec"])]).astype(float)
    treated = (x["horTh"].astype(str) == "yes").to_numpy(float)
    time, event = y["time"].astype(float), y["cens"].astype(bool)
    digest = hashlib.sha256(np.ascontiguousarray(np.column_stack([mat, treated, time, event])).tobytes()).hexdigest()
    raw = {"age": x["age"].to_numpy(float), "postmenopausal": meno}
    return Gbsg2Data(mat, treated, time, event, raw, digest)
