"""Imaging tools: ``segment_image`` (find and measure lesions) and ``classify_image`` (characterise them)."""

from __future__ import annotations

import math
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
    density = ""
    if ct:
        density = (f", core density {les['core_mean_hu']:.0f} HU mean, {les['core_median_hu']:.0f} HU median "
                   f"({les['core_method']})")
    what = "Mass" if les.get("category") == "mass" else "Lesion"
    mass = (" It is larger than 3 cm, so it is a mass, not a nodule (Fleischner glossary)."
            if les.get("category") == "mass" else "")
    return (f"{what} {les['id']} on the {study}: long axis {les['long_axis_mm']:.1f} mm, short axis "
            f"{les['short_axis_mm']:.1f} mm, mean diameter {les['mean_diameter_mm']:.1f} mm, volume "
            f"{les['volume_mm3']:.0f} mm³{density} (slice {les['slice_index']}{lobe}).{mass}")


def _progress(ctx: ToolContext, tool: str):
    """The context's progress callback with the tool's name in front of the stage, or None."""
    if ctx.progress is None:
        return None
    report = ctx.progress
    return lambda stage, fraction: report(f"{tool}: {stage}", fraction)


def _same_input(data: dict | None, attachment: str, versions: dict[str, str]) -> bool:
    """True when an earlier finding is of this attachment, made by these model versions."""
    if not data or data.get("attachment") != attachment:
        return False
    return all(data.get("versions", {}).get(k) == v for k, v in versions.items())


class SegmentImageTool(GalenTool):
    name = "segment_image"
    description = ("Segment lung nodules or lesions in an attached CT/MR volume (DICOM, NIfTI) or image; report "
                   "each lesion's long, short and mean axial diameter (mm), volume (mm³), core density (HU) and "
                   "position, with an overlay image and a mask NIfTI. Candidates outside the lungs or at aerated-lung "
                   "density are not called nodules; lesions over 3 cm are reported as masses.")
    args_model = SegmentImageArgs
    version = "0.2.0"

    def availability(self) -> tuple[bool, str]:
        return _availability("seg")

    def extract_arguments(self, question: str, ctx: ToolContext) -> dict[str, Any]:
        return {"attachment": imaging_attachment(ctx), "target": _target(question)}

    def run(self, args: BaseModel, ctx: ToolContext) -> ToolResult:
        from specialists.imaging.pipeline import VERSION, segment_file
        from specialists.imaging.plausibility import describe

        assert isinstance(args, SegmentImageArgs)
        rep = segment_file(Path(args.attachment), ctx.workdir, ctx.settings.imaging_seg_bundle, ctx.settings.device,
                           progress=_progress(ctx, self.name))
        st = rep.study
        lesions = [les.to_dict() for les in rep.lesions]
        ct = st.volume.modality == "CT"
        masses = sum(1 for les in lesions if les["category"] == "mass")
        nodules = len(lesions) - masses
        noun = args.target + ("s" if nodules != 1 else "")
        found = f"{nodules} {noun} {'was' if nodules == 1 else 'were'} found"
        if masses:
            found += f", and {masses} mass{'es' if masses != 1 else ''} (over 3 cm)"
        facts = [f"The study is {st.summary}.", found + "."]
        facts += [_lesion_fact(les, ct, "scan") for les in lesions[:10]]
        aside = describe(rep.set_aside)
        if aside:
            facts.append(aside)
        if rep.filtered:
            facts.append(f"{rep.filtered} further candidate{'s' if rep.filtered != 1 else ''} shaped like "
                         f"vessel pieces {'were' if rep.filtered != 1 else 'was'} set aside by the false-positive filter.")
        if lesions:
            big = lesions[0]
            summary = (f"{found} in the {st.summary}; the largest measures "
                       f"{big['long_axis_mm']:.1f} × {big['short_axis_mm']:.1f} mm (mean diameter "
                       f"{big['mean_diameter_mm']:.1f} mm, volume {big['volume_mm3']:.0f} mm³).")
            kind = "solid" if ct and big["core_mean_hu"] > -300 else "subsolid" if ct else ""
            grounding = f"{kind} pulmonary nodule {big['mean_diameter_mm']:.0f} mm Fleischner follow-up".strip()
            if big["category"] == "mass":
                grounding = f"lung mass {big['mean_diameter_mm']:.0f} mm work-up"
        else:
            summary = f"No {args.target} was found in the {st.summary}."
            grounding = None
        artifacts = [Artifact(path=str(p), kind="image", label=_overlay_label(p)) for p in rep.overlays]
        if rep.mask_path:
            artifacts.append(Artifact(path=str(rep.mask_path), kind="nifti", label="Lesion mask (NIfTI, labels = ids)"))
        versions = {"segment_image": VERSION, "seg_bundle": rep.bundle.version}
        return ToolResult(
            tool=self.name, summary=summary, facts=facts,
            data={"lesions": lesions, "study": st.to_dict(), "ood": bool(st.ood), "ood_reasons": st.ood,
                  "target": args.target, "candidates_filtered": rep.filtered,
                  "set_aside": [a.to_dict() for a in rep.set_aside], "attachment": args.attachment,
                  "patches_path": str(rep.patches_path) if rep.patches_path else None,
                  "mask_path": str(rep.mask_path) if rep.mask_path else None, "versions": versions,
                  "engine": rep.engine, "stage_seconds": rep.seconds},
            artifacts=artifacts, demo_model=rep.bundle.synthetic, versions=versions,
            warnings=_ood_warning(st.ood) + rep.warnings + _common_warnings(rep.bundle), grounding_query=grounding)


class ClassifyImageTool(GalenTool):
    name = "classify_image"
    description = ("Characterise lung nodules in an attached CT: type (solid, part-solid, ground-glass) and "
                   "spiculation with calibrated probabilities, and a Grad-CAM heat map of what the classifier used, "
                   "with a colour bar and what the map does and does not show. Explaining an earlier heat map "
                   "reuses that result.")
    args_model = ClassifyImageArgs
    version = "0.2.0"

    def availability(self) -> tuple[bool, str]:
        return _availability("cls")

    def extract_arguments(self, question: str, ctx: ToolContext) -> dict[str, Any]:
        m = re.search(r"\b(?:lesion|nodule)\s*(?:#|no\.?|number)?\s*(\d{1,2})\b", question, re.IGNORECASE)
        return {"attachment": imaging_attachment(ctx), "lesion_id": int(m.group(1)) if m else None}

    def _characterise(self, args: ClassifyImageArgs, ctx: ToolContext) -> dict[str, Any]:
        """Run (or reuse a segmentation for) the characterisation; the finding's data without the per-call view."""
        from specialists.imaging.pipeline import VERSION, characterise_file, characterise_saved, cls_bundle

        b = cls_bundle(ctx.settings.imaging_cls_bundle, ctx.settings.device)
        seg = ctx.latest_finding("segment_image")
        seg_ok = bool(seg and seg.get("attachment") == args.attachment and seg.get("patches_path")
                      and Path(seg["patches_path"]).is_file())
        if seg_ok:
            assert seg is not None
            from specialists.imaging.progress import Stages

            stem = Path(args.attachment).name.split(".")[0] or "image"
            st = Stages(_progress(ctx, self.name), ("classify", "gradcam"))
            chars, cams, shares = characterise_saved(Path(seg["patches_path"]), ctx.workdir, b, ctx.settings.device,
                                                     stages=st, stem=stem)
            st.finish()
            lesions = {les["id"]: les for les in seg["lesions"]}
            study, ood, seg_version = seg["study"], seg.get("ood_reasons", []), seg["versions"]["seg_bundle"]
            seconds: dict[str, float] = dict(st.seconds)
            source = "the segmentation earlier in this conversation"
        else:
            rep = characterise_file(Path(args.attachment), ctx.workdir, ctx.settings.imaging_seg_bundle,
                                    ctx.settings.imaging_cls_bundle, ctx.settings.device,
                                    progress=_progress(ctx, self.name))
            assert rep.segmentation is not None
            chars, cams, shares = rep.characters, rep.gradcams, rep.attribution
            lesions = {les.id: les.to_dict() for les in rep.segmentation.lesions}
            study, ood = rep.segmentation.study.to_dict(), rep.segmentation.study.ood
            seg_version, seconds, source = rep.segmentation.bundle.version, rep.seconds, "a new segmentation"
        rows = []
        for ch in chars:
            d = ch.to_dict()
            d["mean_diameter_mm"] = round(float(lesions[ch.id]["mean_diameter_mm"]), 1)
            rows.append(d)
        by_id = {ch.id: ch for ch in chars}
        gradcams = [{"id": i, "path": str(p), "type": by_id[i].type,
                     "share_within_2mm": round(float(shares[i]), 3) if math.isfinite(shares[i]) else None}
                    for i, p in zip(list(shares), cams, strict=True)]
        return {"characterised": rows, "gradcams": gradcams, "study": study, "ood_reasons": ood,
                "attachment": args.attachment, "segmentation_source": source, "stage_seconds": seconds,
                "versions": {"classify_image": VERSION, "cls_bundle": b.version, "seg_bundle": seg_version},
                "demo_model": b.synthetic, "bundle_warnings": list(b.warnings)}

    def run(self, args: BaseModel, ctx: ToolContext) -> ToolResult:
        from specialists.imaging.explain import EMPTY, MEANING
        from specialists.imaging.pipeline import VERSION, cls_bundle

        assert isinstance(args, ClassifyImageArgs)
        b = cls_bundle(ctx.settings.imaging_cls_bundle, ctx.settings.device)
        earlier = ctx.latest_finding(self.name)
        reused = _same_input(earlier, args.attachment, {"classify_image": VERSION, "cls_bundle": b.version}) and \
            all(Path(g["path"]).is_file() for g in (earlier or {}).get("gradcams", []))
        base = dict(earlier) if reused and earlier else self._characterise(args, ctx)
        rows = [d for d in base["characterised"] if args.lesion_id is None or d["id"] == args.lesion_id]
        cams = [g for g in base["gradcams"] if args.lesion_id is None or g["id"] == args.lesion_id]
        facts = []
        for d in rows:
            probs = ", ".join(f"{k} {v:.2f}" for k, v in d["type_probabilities"].items())
            facts.append(f"Lesion {d['id']} ({d['mean_diameter_mm']:.1f} mm) is classified {d['type']} "
                         f"(probabilities: {probs}); {'spiculated' if d['spiculated'] else 'not spiculated'} "
                         f"(spiculation probability {d['spiculation_probability']:.2f}).")
        for g in cams:
            if g["share_within_2mm"] is None:
                facts.append(f"Grad-CAM of lesion {g['id']} (for its predicted type, {g['type']}): {EMPTY}")
                continue
            facts.append(f"Grad-CAM of lesion {g['id']} (for its predicted type, {g['type']}): "
                         f"{g['share_within_2mm']:.0%} of the map's positive weight lies within 2 mm of the "
                         "segmented lesion.")
        if cams:
            facts.append(MEANING)
        if reused:
            facts.insert(0, "These results are from the characterisation earlier in this conversation; the "
                            "classifier was not run again.")
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
        artifacts = [Artifact(path=g["path"], kind="image",
                              label=f"Grad-CAM of lesion {g['id']} ({g['type']}): where the classifier found the "
                                    "features behind its prediction; not an outline, not a proof")
                     for g in cams]
        data = base | {"lesions": rows, "ood": bool(base["ood_reasons"]), "reused": reused}
        warnings = _ood_warning(base["ood_reasons"]) + list(base.get("bundle_warnings", []))
        if base.get("demo_model", True):
            warnings.append("Demo model: trained only on synthetic CT phantoms, not validated on patients; not for "
                            "clinical decisions.")
        return ToolResult(tool=self.name, summary=summary, facts=facts, data=data, artifacts=artifacts,
                          demo_model=bool(base.get("demo_model", True)), versions=dict(base["versions"]),
                          warnings=warnings, grounding_query=grounding)


def _overlay_label(path) -> str:
    """'Segmentation overlay (lesion2)' or, for the slice stack, 'Slice 12 through the largest lesion'."""
    part = path.stem.split("_")[-2]
    if part.startswith("stack"):
        return f"Slice {int(part[5:])} through the largest lesion"
    return f"Segmentation overlay ({part})"
