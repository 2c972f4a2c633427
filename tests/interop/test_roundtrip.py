"""find → retrieve → analyse → SEG + SR (+ FHIR) → push → find again → re-read with highdicom: every value the same."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest


def _call(tool, args: dict, ctx) -> dict:
    result = tool.run(tool.validate_arguments(args), ctx)
    return {"name": tool.name, "ok": True, "arguments": args, "result": result.model_dump(mode="json")}


@pytest.mark.slow
def test_pacs_round_trip(pacs_settings, stored_patients, tmp_path):
    import highdicom as hd

    from interop.dicom_results import read_report, read_source_series
    from interop.dicomweb import Pacs
    from interop.fhir_facts import facts_from_attachment
    from interop.workflow import fetch_study, find_studies, prepare_results, push_results
    from specialists.imaging.deid import deidentify_to
    from tools.base import Attachment, ToolContext
    from tools.clinical import NoduleMalignancyRiskTool
    from tools.imaging import ClassifyImageTool, SegmentImageTool

    patient = stored_patients["galen-synth-001"]
    [row] = find_studies(pacs_settings, patient_id="galen-synth-001", modality="CT")
    fetched = fetch_study(pacs_settings, study_uid=row.study_uid)
    clean = deidentify_to(fetched.folder, tmp_path / "workspace")  # what the agent's workspace does
    ctx = ToolContext(settings=pacs_settings, workdir=tmp_path / "work",
                      attachments=[Attachment(path=clean, name="study", kind="dicom-folder")])
    seg = _call(SegmentImageTool(), {"attachment": str(clean), "target": "nodule"}, ctx)
    assert seg["result"]["data"]["lesions"], "the 9 mm phantom nodule should be found"
    ctx.findings.append({"tool": "segment_image", "data": seg["result"]["data"]})
    cls = _call(ClassifyImageTool(), {"attachment": str(clean)}, ctx)
    ctx.findings.append({"tool": "classify_image", "data": cls["result"]["data"]})
    facts = {f["name"]: f["value"] for f in facts_from_attachment(patient.bundle, date(2026, 2, 10))}
    risk_tool = NoduleMalignancyRiskTool()
    question = (f"{facts['age']}-year-old {'woman' if facts['sex'] == 'female' else 'man'}, family history of lung "
                f"cancer: {'yes' if facts['family_history'] else 'no'}, emphysema: {'yes' if facts['emphysema'] else 'no'}")
    risk = _call(risk_tool, risk_tool.extract_arguments(question, ctx), ctx)
    calls = [seg, cls, risk]

    prepared = prepare_results(pacs_settings, fetched.folder, calls, tmp_path / "out")
    assert prepared.seg_path.is_file() and prepared.sr_path.is_file() and prepared.fhir_bundle_path.is_file()
    from fhir.resources.R4B.bundle import Bundle

    bundle = Bundle.model_validate_json(prepared.fhir_bundle_path.read_text())
    kinds = sorted(e.resource.get_resource_type() for e in bundle.entry)
    assert kinds == sorted(["DiagnosticReport", "RiskAssessment"] + ["Observation"] * len(seg["result"]["data"]["lesions"]))
    confirmation = push_results(pacs_settings, prepared)
    assert set(confirmation.found_again) == set(confirmation.stored) and len(confirmation.stored) == 2
    assert "found again by QIDO-RS" in confirmation.message()

    # Query back from the PACS and re-read what it holds.
    pacs = Pacs.from_settings(pacs_settings)
    seg_json = pacs.find_instances(row.study_uid, modality="SEG")
    sr_json = pacs.find_instances(row.study_uid, modality="SR")
    assert len(seg_json) == 1 and len(sr_json) == 1

    def fetch(item):
        return pacs.retrieve_instance(row.study_uid, item["0020000E"]["Value"][0], item["00080018"]["Value"][0])
    seg_back = hd.seg.Segmentation.from_dataset(fetch(seg_json[0]))
    sr_back = fetch(sr_json[0])

    # The SEG references the original series and holds the mask on its slices.
    sources = read_source_series(fetched.folder)
    assert {str(s.SeriesInstanceUID) for s in seg_back.ReferencedSeriesSequence} == {fetched.series_uid}
    lesions = {les["id"]: les for les in seg["result"]["data"]["lesions"]}
    assert seg_back.number_of_segments == len(prepared.lesions)
    from interop.dicom_results import mask_on_source

    mask_path = next(a["path"] for a in seg["result"]["artifacts"] if a["kind"] == "nifti")
    expected = mask_on_source(sources, mask_path)
    got = seg_back.get_pixels_by_source_instance(
        source_sop_instance_uids=[str(s.SOPInstanceUID) for s in sources], combine_segments=True,
        skip_overlap_checks=True)
    numbers = {les["id"]: i + 1 for i, les in enumerate(prepared.lesions)}
    relabelled = np.zeros_like(expected)
    for lid, n in numbers.items():
        relabelled[expected == lid] = n
    assert np.array_equal(np.asarray(got), relabelled)

    # Every value of the SR is the value the tools produced, with the models named.
    rows = {r["tracking_id"]: r for r in read_report(sr_back)}
    chars = {c["id"]: c for c in cls["result"]["data"]["lesions"]}
    largest = max(lesions.values(), key=lambda les: les["mean_diameter_mm"])["id"]
    for les in prepared.lesions:
        r = rows[f"nodule-{les['id']}"]
        src = lesions[les["id"]]
        for key in ("long_axis_mm", "short_axis_mm", "mean_diameter_mm", "volume_mm3", "mean_hu"):
            assert r[key] == pytest.approx(float(src[key]), rel=1e-9), key
        assert r["segment_number"] == numbers[les["id"]]
        assert r["nodule_type"] == chars[les["id"]]["type"] and r["spiculated"] == chars[les["id"]]["spiculated"]
        assert r["algorithms"]["volume_mm3"][0].startswith("Galen lung-nodule segmentation")
        if les["id"] == largest:
            assert r["malignancy_probability"] == pytest.approx(risk["result"]["data"]["probability"], rel=1e-6)
            assert r["algorithms"]["malignancy_probability"][0].startswith("Brock (PanCan)")
        else:
            assert "malignancy_probability" not in r
