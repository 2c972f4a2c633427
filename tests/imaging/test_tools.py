"""segment_image and classify_image end to end on real and generated files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from galen.errors import MissingFacts
from tools.base import Attachment
from tools.imaging import ClassifyImageTool, SegmentImageTool


def _att(path: Path, kind: str) -> Attachment:
    return Attachment(path=Path(path), name=Path(path).name, kind=kind)


def _run(tool, ctx):
    args = tool.validate_arguments(tool.extract_arguments(ctx.question, ctx))
    return tool.run(args, ctx)


def test_no_attachment_asks_for_one(ctx):
    for tool in (SegmentImageTool(), ClassifyImageTool()):
        with pytest.raises(MissingFacts) as e:
            tool.extract_arguments("Outline the nodule on this CT", ctx())
        assert e.value.missing == ["an imaging attachment (DICOM, NIfTI, PNG/JPEG)"]


def test_arguments_from_question(ctx, phantom_files):
    c = ctx([_att(phantom_files["nifti"], "nifti")])
    tool = SegmentImageTool()
    assert tool.extract_arguments("Outline the nodule and give its diameter", c)["target"] == "nodule"
    assert tool.extract_arguments("Segment the mass", c) == {"attachment": str(phantom_files["nifti"]),
                                                             "target": "lesion"}
    assert ClassifyImageTool().extract_arguments("Is nodule 2 spiculated?", c)["lesion_id"] == 2


@pytest.fixture(scope="module")
def nifti_result(phantom_files, tmp_path_factory):
    from galen.settings import Settings
    from tools.base import ToolContext

    c = ToolContext(settings=Settings(), workdir=tmp_path_factory.mktemp("seg"),
                    attachments=[_att(phantom_files["nifti"], "nifti")],
                    question="Outline the nodule on this CT and give its diameter.")
    return _run(SegmentImageTool(), c)


def test_segment_phantom_nifti(nifti_result, small_phantom):
    res = nifti_result
    lesions = res.data["lesions"]
    assert res.data["ood"] is False and res.demo_model and len(lesions) >= 2
    for key in ("centroid", "long_axis_mm", "short_axis_mm", "mean_diameter_mm", "volume_mm3", "mean_hu",
                "upper_lobe", "slice_index"):
        assert key in lesions[0]
    # The two planted nodules (14 mm and 8 mm) are the two largest findings, with their sizes.
    assert lesions[0]["mean_diameter_mm"] == pytest.approx(14.0, abs=2.5)
    assert lesions[1]["mean_diameter_mm"] == pytest.approx(8.0, abs=2.0)
    assert f"mean diameter {lesions[0]['mean_diameter_mm']:.1f} mm" in " ".join(res.facts)
    assert res.data["study"]["modality"] == "CT" and "mm" in (res.grounding_query or "")
    kinds = {a.kind for a in res.artifacts}
    assert kinds == {"image", "nifti"} and all(Path(a.path).is_file() for a in res.artifacts)
    import nibabel as nib

    mask = nib.load(next(a.path for a in res.artifacts if a.kind == "nifti"))
    assert mask.shape == small_phantom.image.shape[::-1]
    assert any("synthetic" in w for w in res.warnings)


def test_dicom_zip_agrees_with_nifti(ctx, phantom_files, nifti_result):
    # The folder and the zip load to the same array (test_intake); one run through the tool suffices.
    res = _run(SegmentImageTool(), ctx([_att(phantom_files["zip"], "dicom-zip")]))
    d_zip = [les["mean_diameter_mm"] for les in res.data["lesions"]]
    d_nii = [les["mean_diameter_mm"] for les in nifti_result.data["lesions"]]
    assert res.data["study"]["kind"] == "dicom-zip" and np.allclose(d_zip[:2], d_nii[:2], atol=0.11)


@pytest.mark.parametrize("name, source, kind", [("CT_small.dcm", "pydicom", "dicom"), ("MR_small.dcm", "pydicom", "dicom"),
                                                ("anatomical.nii", "nibabel", "nifti")])
def test_real_files_run_and_are_flagged(ctx, name, source, kind):
    if source == "pydicom":
        from pydicom.data import get_testdata_file

        path = Path(get_testdata_file(name, download=False))
    else:
        import nibabel

        path = Path(nibabel.__file__).parent / "tests" / "data" / name
    res = _run(SegmentImageTool(), ctx([_att(path, kind)]))
    assert isinstance(res.data["lesions"], list) and res.data["study"]["source"] == name
    # None of these is a chest CT volume like the training phantoms.
    assert res.data["ood"] is True and any(w.startswith("Out of distribution") for w in res.warnings)


def test_photo_is_flagged(ctx, tmp_path):
    from PIL import Image

    rng = np.random.default_rng(1)
    p = tmp_path / "photo.jpg"
    Image.fromarray((rng.random((120, 160, 3)) * 255).astype(np.uint8)).save(p)
    res = _run(SegmentImageTool(), ctx([_att(p, "image")]))
    assert res.data["ood"] is True and "2-D image" in " ".join(res.data["ood_reasons"])


def test_classify_phantom(ctx, phantom_files):
    res = _run(ClassifyImageTool(), ctx([_att(phantom_files["nifti"], "nifti")], "What type is this nodule?"))
    lesions = res.data["lesions"]
    assert len(lesions) >= 2 and res.data["ood"] is False
    for les in lesions:
        assert les["type"] in ("solid", "part-solid", "ground-glass")
        assert sum(les["type_probabilities"].values()) == pytest.approx(1.0, abs=0.01)
        assert 0 <= les["spiculation_probability"] <= 1 and isinstance(les["spiculated"], bool)
    assert res.artifacts and all(Path(a.path).is_file() and a.kind == "image" for a in res.artifacts)
    assert "Fleischner" in (res.grounding_query or "")


def test_candidates_set_aside_by_the_filter_are_reported(phantom_files, tmp_path, monkeypatch):
    import dataclasses

    from galen.settings import Settings
    from specialists.imaging import pipeline
    from tools.base import ToolContext

    real = pipeline.segment_file
    monkeypatch.setattr(pipeline, "segment_file", lambda *a, **k: dataclasses.replace(real(*a, **k), filtered=2))
    c = ToolContext(settings=Settings(), workdir=tmp_path, attachments=[_att(phantom_files["nifti"], "nifti")],
                    question="Outline the nodule on this CT.")
    res = _run(SegmentImageTool(), c)
    assert res.data["candidates_filtered"] == 2
    assert "2 further candidates shaped like vessel pieces were set aside by the false-positive filter." in res.facts


def _finding(tool: str, res) -> dict:
    return {"tool": tool, "data": res.data, "turn": 1}


def test_classify_after_segment_reads_the_series_once(phantom_files, tmp_path, monkeypatch):
    from galen.settings import Settings
    from specialists.imaging import pipeline
    from tools.base import ToolContext

    att = [_att(phantom_files["zip"], "dicom-zip")]
    c = ToolContext(settings=Settings(), workdir=tmp_path / "t1", attachments=att, question="Measure the nodules.")
    seg = _run(SegmentImageTool(), c)
    assert seg.data["patches_path"] and Path(seg.data["patches_path"]).is_file()

    def no_second_read(*a, **k):
        raise AssertionError("the series was read again")

    monkeypatch.setattr(pipeline, "take_volume", no_second_read)
    c2 = ToolContext(settings=Settings(), workdir=tmp_path / "t2", attachments=att, question="And their type?",
                     findings=[_finding("segment_image", seg)])
    res = _run(ClassifyImageTool(), c2)
    assert res.data["segmentation_source"] == "the segmentation earlier in this conversation"
    assert [d["id"] for d in res.data["lesions"]] == [les["id"] for les in seg.data["lesions"]]


def test_explaining_the_heat_map_reuses_the_earlier_result(phantom_files, tmp_path, monkeypatch):
    from galen.settings import Settings
    from specialists.imaging import pipeline
    from specialists.imaging.explain import MEANING
    from tools.base import ToolContext

    att = [_att(phantom_files["nifti"], "nifti")]
    first = _run(ClassifyImageTool(), ToolContext(settings=Settings(), workdir=tmp_path / "a", attachments=att,
                                                  question="Is the nodule solid? Show the heat map."))
    assert first.data["reused"] is False and first.data["gradcams"]
    assert MEANING in first.facts and any("of the map's positive weight lies within 2 mm" in f for f in first.facts)

    def must_not_run(*a, **k):
        raise AssertionError("the classifier was run again")

    monkeypatch.setattr(pipeline, "characterise_file", must_not_run)
    monkeypatch.setattr(pipeline, "characterise_saved", must_not_run)
    again = _run(ClassifyImageTool(), ToolContext(settings=Settings(), workdir=tmp_path / "b", attachments=att,
                                                  question="Explain the heatmap.",
                                                  findings=[_finding("classify_image", first)]))
    assert again.data["reused"] is True and "was not run again" in again.facts[0]
    assert [a.path for a in again.artifacts] == [a.path for a in first.artifacts]
    assert MEANING in again.facts


def test_progress_reaches_the_tools_caller(phantom_files, tmp_path):
    from galen.settings import Settings
    from tools.base import ToolContext

    seen: list[tuple[str, float]] = []
    c = ToolContext(settings=Settings(), workdir=tmp_path, attachments=[_att(phantom_files["nifti"], "nifti")],
                    question="Measure it.", progress=lambda stage, f: seen.append((stage, f)))
    _run(SegmentImageTool(), c)
    assert seen and all(s.startswith("segment_image: ") for s, _ in seen) and seen[-1][1] == 1.0
