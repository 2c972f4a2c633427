"""Imaging tools: ``segment_image`` (find and measure lesions) and ``classify_image`` (characterise them)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from galen.errors import MissingFacts
from tools.base import Artifact, GalenTool, ToolContext, ToolResult

IMAGING_KINDS = ("dicom", "dicom-folder", "dicom-zip", "nifti", "image")
_IMAGING_SUFFIXES = (".dcm", ".dicom", ".nii", ".nii.gz", ".zip", ".png", ".jpg", ".jpeg")
_MISSING = "an imaging attachment (DICOM, NIfTI, PNG/JPEG)"


def imaging_attachment(ctx: ToolContext) -> str:
    """Path of the first imaging attachment; ``MissingFacts`` when there is none."""
    for a in ctx.attachments:
        name = str(a.name or a.path).lower()
        if a.kind in IMAGING_KINDS or (a.kind == "unknown" and (name.endswith(_IMAGING_SUFFIXES)
                                                                  or Path(a.path).is_dir())):
            return str(a.path)
    raise MissingFacts("Which image? No CT/MR series or image is attached to this conversation.",
                       missing=[_MISSING], hint="Attach a DICOM file, folder or zip, a NIfTI volume or a PNG/JPEG.")


def _target(question: str) -> str:
    q = question.lower()
    if re.search(r"\bnodul", q):
        return "nodule"
    return "lesion" if re.search(r"\b(lesion|mass|tumou?r|metastas)", q) else "nodule"


class SegmentImageArgs(BaseModel):
    attachment: str = Field(description="Path of the imaging attachment (the first imaging attachment by default).")
    target: Literal["nodule", "lesion"] = Field("nodule", description="What to outline: lung nodules or lesions.")


class ClassifyImageArgs(BaseModel):
    attachment: str = Field(description="Path of the imaging attachment (the first imaging attachment by default).")
    lesion_id: int | None = Field(None, ge=1, description="Only this lesion (ids as in segment_image); all if empty.")


def _availability(which: str) -> tuple[bool, str]:
    try:
        import monai  # noqa: F401
        import torch  # noqa: F401
    except ImportError as e:
        return False, f"{e.name} is not installed"
    from specialists.imaging.bundle import CLS_BUNDLE, SEG_BUNDLE

    bundle = SEG_BUNDLE if which == "seg" else CLS_BUNDLE
    if not (bundle / "models" / "model.pt").is_file():
        return False, f"no weights in {bundle}/models (run galen train imaging-{which})"
    return True, "ready (demo model trained on synthetic CT phantoms)"


def _ood_warning(reasons: list[str]) -> list[str]:
    if not reasons:
        return []
    return ["Out of distribution: the input is unlike the synthetic chest CTs the imaging models were trained "
            "on (" + "; ".join(reasons) + "), so these results are unreliable."]


def _common_warnings(bundle: Any) -> list[str]:
    out = list(bundle.warnings)
    if bundle.synthetic:
        out.append("Demo model: trained only on synthetic CT phantoms, not validated on patients; not for "
                   "clinical decisions.")
    return out


def _lesion_fact(les: dict, ct: bool, study: str) -> str:
    lobe = {True: ", upper half of the lungs", False: ", lower half of the lungs"}.get(les["upper_lobe"], "")
    density = f", mean density {les['mean_hu']:.0f} HU" if ct else ""
    return (f"Lesion {les['id']} on the {study}: long axis {les['long_axis_mm']:.1f} mm, short axis "
            f"{les['short_axis_mm']:.1f} mm, mean diameter {les['mean_diameter_mm']:.1f} mm, volume "
            f"{les['volume_mm3']:.0f} mm³{density} (slice {les['slice_index']}{lobe}).")


class SegmentImageTool(GalenTool):
    name = "segment_image"
    description = ("Segment lung nodules or lesions in an attached CT/MR volume (DICOM, NIfTI) or image; report "
                   "each lesion's long, short and mean axial diameter (mm), volume (mm³), mean HU and position, "
                   "with an overlay image and a mask NIfTI.")
    args_model = SegmentImageArgs
    version = "0.1.0"

    def availability(self) -> tuple[bool, str]:
        return _availability("seg")

    def extract_arguments(self, question: str, ctx: ToolContext) -> dict[str, Any]:
        return {"attachment": imaging_attachment(ctx), "target": _target(question)}

    def run(self, args: BaseModel, ctx: ToolContext) -> ToolResult:
        from specialists.imaging.pipeline import VERSION, segment_file

        assert isinstance(args, SegmentImageArgs)
        rep = segment_file(Path(args.attachment), ctx.workdir, ctx.settings.imaging_seg_bundle, ctx.settings.device)
        st = rep.study
        lesions = [les.to_dict() for les in rep.lesions]
        ct = st.volume.modality == "CT"
        noun = args.target + ("s" if len(lesions) != 1 else "")
        facts = [f"The study is {st.summary}.",
                 f"{len(lesions)} {noun} {'was' if len(lesions) == 1 else 'were'} found."]
        facts += [_lesion_fact(les, ct, "scan") for les in lesions[:10]]
        if rep.filtered:
            facts.append(f"{rep.filtered} further candidate{'s' if rep.filtered != 1 else ''} shaped like "
                         f"vessel pieces {'were' if rep.filtered != 1 else 'was'} set aside by the false-positive filter.")
        if lesions:
            big = lesions[0]
            summary = (f"{len(lesions)} {noun} found in the {st.summary}; the largest measures "
                       f"{big['long_axis_mm']:.1f} × {big['short_axis_mm']:.1f} mm (mean diameter "
                       f"{big['mean_diameter_mm']:.1f} mm, volume {big['volume_mm3']:.0f} mm³).")
            kind = "solid" if ct and big["mean_hu"] > -300 else "subsolid" if ct else ""
            grounding = f"{kind} pulmonary nodule {big['mean_diameter_mm']:.0f} mm Fleischner follow-up".strip()
        else:
            summary = f"No {args.target} was found in the {st.summary}."
            grounding = None
        artifacts = [Artifact(path=str(p), kind="image", label=_overlay_label(p)) for p in rep.overlays]
        if rep.mask_path:
            artifacts.append(Artifact(path=str(rep.mask_path), kind="nifti", label="Lesion mask (NIfTI, labels = ids)"))
        return ToolResult(
            tool=self.name, summary=summary, facts=facts,
            data={"lesions": lesions, "study": st.to_dict(), "ood": bool(st.ood), "ood_reasons": st.ood,
                  "target": args.target, "candidates_filtered": rep.filtered},
            artifacts=artifacts, demo_model=rep.bundle.synthetic,
            versions={"segment_image": VERSION, "seg_bundle": rep.bundle.version},
            warnings=_ood_warning(st.ood) + _common_warnings(rep.bundle), grounding_query=grounding)


class ClassifyImageTool(GalenTool):
    name = "classify_image"
    description = ("Characterise lung nodules in an attached CT: type (solid, part-solid, ground-glass) and "
                   "spiculation with calibrated probabilities, and a Grad-CAM heat-map overlay.")
    args_model = ClassifyImageArgs
    version = "0.1.0"

    def availability(self) -> tuple[bool, str]:
        return _availability("cls")

    def extract_arguments(self, question: str, ctx: ToolContext) -> dict[str, Any]:
        m = re.search(r"\b(?:lesion|nodule)\s*(?:#|no\.?|number)?\s*(\d{1,2})\b", question, re.IGNORECASE)
        return {"attachment": imaging_attachment(ctx), "lesion_id": int(m.group(1)) if m else None}

    def run(self, args: BaseModel, ctx: ToolContext) -> ToolResult:
        from specialists.imaging.pipeline import VERSION, characterise_file

        assert isinstance(args, ClassifyImageArgs)
        rep = characterise_file(Path(args.attachment), ctx.workdir, ctx.settings.imaging_seg_bundle,
                                ctx.settings.imaging_cls_bundle, ctx.settings.device)
        st = rep.segmentation.study
        sizes = {les.id: les for les in rep.segmentation.lesions}
        rows = []
        for ch in rep.characters:
            if args.lesion_id is not None and ch.id != args.lesion_id:
                continue
            d = ch.to_dict()
            d["mean_diameter_mm"] = round(sizes[ch.id].mean_diameter_mm, 1)
            rows.append(d)
        facts = []
        for d in rows:
            probs = ", ".join(f"{k} {v:.2f}" for k, v in d["type_probabilities"].items())
            facts.append(f"Lesion {d['id']} ({d['mean_diameter_mm']:.1f} mm) is classified {d['type']} "
                         f"(probabilities: {probs}); {'spiculated' if d['spiculated'] else 'not spiculated'} "
                         f"(spiculation probability {d['spiculation_probability']:.2f}).")
        if rows:
            top = rows[0]
            summary = (f"Lesion {top['id']} looks {top['type']} (p = {top['type_probabilities'][top['type']]:.2f}) "
                       f"and {'spiculated' if top['spiculated'] else 'not spiculated'} "
                       f"(p = {top['spiculation_probability']:.2f}); {len(rows)} lesion(s) characterised.")
            grounding = (f"{top['type']} nodule {top['mean_diameter_mm']:.0f} mm"
                         f"{' spiculated' if top['spiculated'] else ''} Fleischner follow-up")
        else:
            summary = "No lesion was found to characterise." if args.lesion_id is None else \
                f"There is no lesion {args.lesion_id} in this study."
            grounding = None
        artifacts = [Artifact(path=str(p), kind="image", label="Grad-CAM heat map (type prediction)")
                     for p in rep.gradcams]
        return ToolResult(
            tool=self.name, summary=summary, facts=facts, data={"lesions": rows, "ood": bool(st.ood),
                                                               "ood_reasons": st.ood, "study": st.to_dict()},
            artifacts=artifacts, demo_model=rep.bundle.synthetic or rep.segmentation.bundle.synthetic,
            versions={"classify_image": VERSION, "cls_bundle": rep.bundle.version,
                      "seg_bundle": rep.segmentation.bundle.version},
            warnings=_ood_warning(st.ood) + _common_warnings(rep.bundle), grounding_query=grounding)


def _overlay_label(path) -> str:
    """'Segmentation overlay (lesion2)' or, for the slice stack, 'Slice 12 through the largest lesion'."""
    part = path.stem.split("_")[-2]
    if part.startswith("stack"):
        return f"Slice {int(part[5:])} through the largest lesion"
    return f"Segmentation overlay ({part})"
