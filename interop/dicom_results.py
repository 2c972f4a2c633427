"""Imaging results in the formats radiology uses: a DICOM Segmentation and a TID 1500 measurement report.

Both are made with highdicom and reference the *original* source series (the one retrieved from
the PACS, with its real UIDs), not the de-identified copy the models read: the label mask is
carried from the analysis grid to each source slice through patient coordinates (the mask
NIfTI's affine and each slice's Image Position / Orientation (Patient)), so the geometry is
exact whatever resampling the models used.

The SR (Comprehensive 3D SR, TID 1500 "Imaging Measurement Report") has one TID 1411 group per
nodule, referencing its SEG segment: long axis, short axis, mean diameter (mm), volume (mm³),
mean attenuation (HU), the nodule type and margin when characterised, and the malignancy
probability with the model that computed it (TID 4019 algorithm identification). Codes are
DICOM's and SNOMED CT's (PS3.16; ``_CODES``); the nodule-type concept has no standard code and
uses the local coding scheme ``99GALEN`` (PS3.16 private coding schemes start with "99").
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from galen.errors import InvalidInput, UnsupportedFile

MANUFACTURER = "Galen"
LOCAL_SCHEME = "99GALEN"
NODULE_TYPES = ("solid", "part-solid", "ground-glass")


@dataclass(frozen=True)
class Algorithm:
    """A model named in the results (TID 4019): name, version and whether it is a demo model."""

    name: str
    version: str
    demo: bool = False


@dataclass(frozen=True)
class LesionResult:
    """One lesion's values as they go into the SR (and come back out of it)."""

    id: int
    long_axis_mm: float
    short_axis_mm: float
    mean_diameter_mm: float
    volume_mm3: float
    mean_hu: float | None = None
    nodule_type: str | None = None
    spiculated: bool | None = None
    malignancy_probability: float | None = None  # 0-1

    @classmethod
    def from_findings(cls, segment: dict, classify: dict | None = None, risk: dict | None = None) -> list[LesionResult]:
        """Lesions from the ``data`` of segment_image (and classify_image, nodule_malignancy_risk) results.

        The Brock probability belongs to the largest nodule (the one the risk tool measured).
        """
        lesions = segment.get("lesions") or []
        chars = {int(c["id"]): c for c in (classify or {}).get("lesions") or [] if "id" in c}
        largest = max(lesions, key=lambda les: float(les.get("mean_diameter_mm") or 0))["id"] if lesions else None
        prob = (risk or {}).get("probability")
        out = []
        for les in lesions:
            ch = chars.get(int(les["id"]), {})
            out.append(cls(id=int(les["id"]), long_axis_mm=float(les["long_axis_mm"]),
                           short_axis_mm=float(les["short_axis_mm"]), mean_diameter_mm=float(les["mean_diameter_mm"]),
                           volume_mm3=float(les["volume_mm3"]),
                           mean_hu=None if les.get("mean_hu") is None else float(les["mean_hu"]),
                           nodule_type=ch.get("type"), spiculated=ch.get("spiculated"),
                           malignancy_probability=float(prob) if prob is not None and les["id"] == largest else None))
        return out


def _codes() -> dict[str, Any]:
    from highdicom.sr import CodedConcept
    from pydicom.sr.codedict import codes

    return {
        "nodule": codes.SCT.Nodule,  # SCT 27925004
        "lung": codes.SCT.Lung,  # SCT 39607008
        "abnormal": codes.SCT.MorphologicallyAbnormalStructure,  # SCT 49755003
        "long": codes.SCT.LongAxis,  # SCT 103339001
        "short": codes.SCT.ShortAxis,  # SCT 103340004
        "diameter": codes.SCT.Diameter,  # SCT 81827009
        "volume": codes.SCT.Volume,  # SCT 118565006
        "attenuation": codes.DCM.AttenuationCoefficient,  # DCM 112031
        "mean": codes.SCT.Mean,  # SCT 373098007
        "probability": codes.DCM.ProbabilityOfCancer,  # DCM 111047
        "margins": codes.DCM.Margins,  # DCM 111037
        "spiculated": codes.SCT.SpiculatedLesion,  # SCT 129742005
        "circumscribed": codes.SCT.LesionWithCircumscribedMargin,  # SCT 129738007
        "mm": codes.UCUM.Millimeter, "mm3": codes.UCUM.CubicMillimeter, "hu": codes.UCUM.HounsfieldUnit,
        "percent": codes.UCUM.Percent,
        "procedure": codes.SCT.ComputedTomography,  # SCT 77477000
        "ai": codes.DCM.ArtificialIntelligence,  # DCM 123110
        "device": codes.DCM.Device if hasattr(codes.DCM, "Device") else CodedConcept("121007", "DCM", "Device"),
        "type": CodedConcept("nodule-type", LOCAL_SCHEME, "Nodule type"),
        "types": {t: CodedConcept(t, LOCAL_SCHEME, t.replace("-", " ").capitalize() + " nodule") for t in NODULE_TYPES},
    }


# --- the source series and the mask on it ---------------------------------------------------------


def read_source_series(folder: Path) -> list:
    """The original single-frame slices of one series, sorted along their normal (with pixel data)."""
    from specialists.imaging.dicom_io import check_series_geometry, is_dicom_file, read_dataset

    files = sorted(p for p in Path(folder).rglob("*") if p.is_file() and is_dicom_file(p))
    if not files:
        raise InvalidInput(f"No DICOM files in {folder} to reference in the results.")
    dss = [read_dataset(p) for p in files]
    if any(int(d.get("NumberOfFrames", 1) or 1) > 1 for d in dss):
        raise UnsupportedFile("DICOM SEG/SR export supports series of single-frame slices; this series is multi-frame.")
    check_series_geometry(dss, "the source series")
    iop = np.array([float(v) for v in dss[0].ImageOrientationPatient])
    normal = np.cross(iop[:3], iop[3:])
    return sorted(dss, key=lambda d: float(np.dot([float(v) for v in d.ImagePositionPatient], normal)))


def mask_on_source(datasets: list, mask_path: Path) -> np.ndarray:
    """The label mask (NIfTI, any grid) sampled onto each source slice: ``(n_slices, rows, cols)`` uint8.

    Each source pixel's centre is placed in patient coordinates from its slice's header
    (PS3.3 C.7.6.2.1.1), converted LPS → RAS, and looked up (nearest voxel) in the mask.
    """
    import nibabel as nib
    from scipy import ndimage

    img = nib.load(str(mask_path))
    mask = np.asarray(img.dataobj).astype(np.int32)
    while mask.ndim > 3:
        mask = mask[..., 0]
    inv = np.linalg.inv(img.affine)
    out = []
    for ds in datasets:
        iop = np.array([float(v) for v in ds.ImageOrientationPatient])
        ipp = np.array([float(v) for v in ds.ImagePositionPatient])
        dr, dc = (float(v) for v in ds.PixelSpacing)
        rows, cols = int(ds.Rows), int(ds.Columns)
        r, c = np.mgrid[0:rows, 0:cols]
        lps = ipp[:, None, None] + iop[:3, None, None] * (c * dc) + iop[3:, None, None] * (r * dr)
        ras = lps * np.array([-1.0, -1.0, 1.0])[:, None, None]
        idx = np.tensordot(inv[:3, :3], ras, axes=1) + inv[:3, 3][:, None, None]
        out.append(ndimage.map_coordinates(mask, idx.reshape(3, -1), order=0, mode="constant", cval=0)
                   .reshape(rows, cols))
    return np.stack(out).astype(np.uint8)


# --- writing ------------------------------------------------------------------------------------


def build_seg(datasets: list, labels: np.ndarray, lesions: list[LesionResult], algorithm: Algorithm,
              series_number: int = 901):
    """A binary DICOM SEG with one segment per lesion present on the source grid.

    Returns:
        The highdicom Segmentation and ``{lesion id: segment number}``.
    """
    import highdicom as hd
    from pydicom.uid import generate_uid

    c = _codes()
    present = [les for les in lesions if np.any(labels == les.id)]
    if not present:
        raise InvalidInput("No segmented lesion lies on the source series' slices: there is nothing to export as SEG.")
    numbers = {les.id: i + 1 for i, les in enumerate(present)}
    relabelled = np.zeros_like(labels)
    for lid, n in numbers.items():
        relabelled[labels == lid] = n
    alg = hd.AlgorithmIdentificationSequence(name=algorithm.name, version=algorithm.version, family=c["ai"])
    descriptions = [hd.seg.SegmentDescription(
        segment_number=numbers[les.id], segment_label=f"Nodule {les.id}", segmented_property_category=c["abnormal"],
        segmented_property_type=c["nodule"], algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
        algorithm_identification=alg, tracking_uid=generate_uid(), tracking_id=f"nodule-{les.id}",
        anatomic_regions=[c["lung"]]) for les in present]
    seg = hd.seg.Segmentation(
        source_images=datasets, pixel_array=relabelled, segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions, series_instance_uid=generate_uid(), series_number=series_number,
        sop_instance_uid=generate_uid(), instance_number=1, manufacturer=MANUFACTURER,
        manufacturer_model_name=algorithm.name[:64], software_versions=algorithm.version,
        device_serial_number="none", content_label="NODULES",
        content_description=("Lung nodule segmentation" + (" (demo model, not for clinical use)"
                                                          if algorithm.demo else ""))[:64])
    return seg, numbers


def _referenced_segment(seg, number: int, datasets: list):
    """The SR's reference to one SEG segment, by its source series.

    (highdicom's ``ReferencedSegment.from_segmentation`` reads the segment number from the per-frame
    groups, where a single-segment SEG does not keep it.)
    """
    import highdicom as hd

    return hd.sr.ReferencedSegment(
        sop_class_uid=str(seg.SOPClassUID), sop_instance_uid=str(seg.SOPInstanceUID), segment_number=number,
        source_series=hd.sr.SourceSeriesForSegmentation(str(datasets[0].SeriesInstanceUID)))


def build_sr(datasets: list, seg, numbers: dict[int, int], lesions: list[LesionResult], seg_algorithm: Algorithm,
             risk_algorithm: Algorithm | None = None, series_number: int = 902):
    """A TID 1500 measurement report (Comprehensive 3D SR) with one group per exported lesion."""
    import highdicom as hd
    from pydicom.uid import generate_uid

    c = _codes()
    seg_alg = hd.sr.AlgorithmIdentification(name=seg_algorithm.name, version=seg_algorithm.version)
    groups = []
    for les in lesions:
        if les.id not in numbers:
            continue
        site = [hd.sr.FindingSite(anatomic_location=c["lung"])]

        def measure(name, value, unit, derivation=None, algorithm=seg_alg, site=site):
            return hd.sr.Measurement(name=name, value=float(value), unit=unit, derivation=derivation,
                                     algorithm_id=algorithm, finding_sites=site)

        ms = [measure(c["long"], les.long_axis_mm, c["mm"]), measure(c["short"], les.short_axis_mm, c["mm"]),
              measure(c["diameter"], les.mean_diameter_mm, c["mm"], derivation=c["mean"]),
              measure(c["volume"], les.volume_mm3, c["mm3"])]
        if les.mean_hu is not None:
            ms.append(measure(c["attenuation"], les.mean_hu, c["hu"], derivation=c["mean"]))
        if les.malignancy_probability is not None and risk_algorithm is not None:
            ms.append(measure(c["probability"], 100.0 * les.malignancy_probability, c["percent"],
                              algorithm=hd.sr.AlgorithmIdentification(name=risk_algorithm.name,
                                                                      version=risk_algorithm.version)))
        quals = []
        if les.nodule_type in NODULE_TYPES:
            quals.append(hd.sr.QualitativeEvaluation(c["type"], c["types"][les.nodule_type]))
        if les.spiculated is not None:
            quals.append(hd.sr.QualitativeEvaluation(c["margins"], c["spiculated"] if les.spiculated
                                                     else c["circumscribed"]))
        groups.append(hd.sr.VolumetricROIMeasurementsAndQualitativeEvaluations(
            tracking_identifier=hd.sr.TrackingIdentifier(uid=generate_uid(), identifier=f"nodule-{les.id}"),
            referenced_segment=_referenced_segment(seg, numbers[les.id], datasets),
            finding_type=c["nodule"], finding_sites=site, algorithm_id=seg_alg,
            measurements=ms, qualitative_evaluations=quals or None))
    observer = hd.sr.ObserverContext(
        observer_type=c["device"],
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=generate_uid(), name=seg_algorithm.name[:64], manufacturer_name=MANUFACTURER))
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=observer),
        procedure_reported=c["procedure"], imaging_measurements=groups)
    return hd.sr.Comprehensive3DSR(
        evidence=list(datasets) + [seg], content=report, series_instance_uid=generate_uid(),
        series_number=series_number, sop_instance_uid=generate_uid(), instance_number=1, manufacturer=MANUFACTURER,
        is_complete=True, is_final=False, is_verified=False)


@dataclass(frozen=True)
class ResultFiles:
    seg_path: Path
    sr_path: Path
    seg_uid: str
    sr_uid: str
    exported: tuple[int, ...]  # lesion ids in the SEG
    left_out: tuple[int, ...]  # lesion ids not on any source slice


def write_results(source_folder: Path, mask_path: Path, lesions: list[LesionResult], out_dir: Path,
                  seg_algorithm: Algorithm, risk_algorithm: Algorithm | None = None) -> ResultFiles:
    """Write ``segmentation.dcm`` (SEG) and ``measurements.dcm`` (SR) for the original series into ``out_dir``."""
    datasets = read_source_series(Path(source_folder))
    labels = mask_on_source(datasets, Path(mask_path))
    seg, numbers = build_seg(datasets, labels, lesions, seg_algorithm)
    sr = build_sr(datasets, seg, numbers, lesions, seg_algorithm, risk_algorithm)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    seg_path, sr_path = out_dir / "segmentation.dcm", out_dir / "measurements.dcm"
    seg.save_as(seg_path)
    sr.save_as(sr_path)
    return ResultFiles(seg_path, sr_path, str(seg.SOPInstanceUID), str(sr.SOPInstanceUID),
                       tuple(numbers), tuple(les.id for les in lesions if les.id not in numbers))


# --- reading back -------------------------------------------------------------------------------


def _algorithm_of(measurement) -> tuple[str, str] | None:
    """(name, version) of the TID 4019 algorithm identification inside a NUM content item, if any."""
    found = {}
    for item in measurement[0].get("ContentSequence", []):
        concept = item.ConceptNameCodeSequence[0].CodeValue
        if concept in ("111001", "111003"):  # DCM Algorithm Name / Algorithm Version
            found[concept] = str(item.TextValue)
    return (found["111001"], found.get("111003", "")) if "111001" in found else None


def read_report(sr_ds) -> list[dict[str, Any]]:
    """Each nodule group of a TID 1500 report as ``{tracking_id, segment_number, values..., algorithms}``."""
    import highdicom as hd

    sr = hd.sr.Comprehensive3DSR.from_dataset(sr_ds)
    c = _codes()
    names = {c["long"].value: "long_axis_mm", c["short"].value: "short_axis_mm", c["diameter"].value: "mean_diameter_mm",
             c["volume"].value: "volume_mm3", c["attenuation"].value: "mean_hu",
             c["probability"].value: "malignancy_probability"}
    out = []
    for group in sr.content.get_volumetric_roi_measurement_groups():
        row: dict[str, Any] = {"tracking_id": group.tracking_identifier,
                               "segment_number": group.referenced_segment.referenced_segment_numbers[0]
                               if group.referenced_segment is not None else None,
                               "algorithms": {}}
        for m in group.get_measurements():
            key = names.get(m.name.value)
            if key is None:
                continue
            value = float(m.value)
            row[key] = value / 100.0 if key == "malignancy_probability" else value
            algorithm = _algorithm_of(m)
            if algorithm is not None:
                row["algorithms"][key] = algorithm
        for q in group.get_qualitative_evaluations():
            if q.name.value == c["type"].value:
                row["nodule_type"] = q.value.value
            elif q.name.value == c["margins"].value:
                row["spiculated"] = q.value.value == c["spiculated"].value
        out.append(row)
    return out
