"""End-to-end imaging analyses used by the tools: load → check → segment → measure → characterise.

Everything here is plain Python over files: no agent, no LLM. Results are frozen dataclasses;
artifacts (overlay PNGs, the mask NIfTI, Grad-CAM PNGs) are written under a given folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import ndimage

from specialists.imaging.bundle import CLS_BUNDLE, SEG_BUNDLE, LoadedBundle, load_bundle
from specialists.imaging.intake import (
    WINDOWS,
    Volume,
    display_slice,
    load_volume,
    summarise,
    to_working_spacing,
    window,
)
from specialists.imaging.measure import Lesion, find_lungs

VERSION = "imaging-0.1.0"


def ood_reasons(vol: Volume, image: np.ndarray) -> list[str]:
    """Why an input is unlike the chest-CT phantoms the models learned from (empty when it is alike)."""
    reasons = []
    if vol.is_2d:
        reasons.append("it is a single 2-D image, not a CT volume")
    if vol.modality != "CT":
        what = "a photograph or 2-D picture" if vol.modality == "photo" else (
            f"modality {vol.modality}" if vol.modality not in ("unknown", "?") else "not recognisably CT "
            "(its intensities are not Hounsfield units)")
        reasons.append(f"it is {what}, and the models were trained on chest CT")
    elif find_lungs(image) is None:
        reasons.append("no air-filled lungs were found in it (it does not look like a chest CT)")
    if not vol.is_2d and vol.spacing[0] > 3.0:
        reasons.append(f"its slices are {vol.spacing[0]:.1f} mm thick (the models expect ≤ 3 mm)")
    return reasons


@dataclass
class ImagingStudy:
    """The loaded input with its working-spacing copy and out-of-distribution verdict."""

    volume: Volume
    kind: str
    summary: str
    image: np.ndarray  # working spacing HU (z, y, x)
    spacing: tuple[float, float, float]
    z_scale: float
    ood: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        v = self.volume
        return {"source": v.source, "kind": self.kind, "summary": self.summary, "modality": v.modality,
                "shape": list(v.array.shape), "spacing_mm": [round(s, 3) for s in v.spacing],
                "working_spacing_mm": [round(s, 3) for s in self.spacing], "notes": list(v.notes)}


def open_study(path: Path, working_spacing: tuple[float, float, float]) -> ImagingStudy:
    """Load an attachment, resample it to the working spacing and judge whether it is in distribution."""
    from specialists.imaging.intake import attachment_kind

    kind = attachment_kind(Path(path))
    vol = load_volume(Path(path))
    image, spacing, z_scale = to_working_spacing(vol, working_spacing)
    if vol.modality == "photo":  # grey levels 0–255: map them onto the CT window so the network can run
        image = image / 255.0 * 1400.0 - 1000.0
    return ImagingStudy(vol, kind, summarise(vol, kind), image, spacing, z_scale, ood_reasons(vol, image))


@dataclass
class SegmentationReport:
    study: ImagingStudy
    lesions: list[Lesion]
    labels: np.ndarray
    overlays: list[Path]
    mask_path: Path | None
    bundle: LoadedBundle
    filtered: int = 0  # candidates the false-positive filter removed


def seg_bundle(path: Path | None = None, device: str = "cpu") -> LoadedBundle:
    """The segmentation bundle: ``path`` (a user's bundle) or the shipped one."""
    return load_bundle(Path(path) if path else SEG_BUNDLE, SEG_BUNDLE, device)


def cls_bundle(path: Path | None = None, device: str = "cpu") -> LoadedBundle:
    """The characterisation bundle: ``path`` (a user's bundle) or the shipped one."""
    return load_bundle(Path(path) if path else CLS_BUNDLE, CLS_BUNDLE, device)


def _overlay_png(image2d: np.ndarray, labels2d: np.ndarray, highlight: int, path: Path, caption: str) -> Path:
    from PIL import Image, ImageDraw

    grey = window(image2d, *WINDOWS["lung"])
    rgb = np.stack([grey] * 3, -1)
    for lid in np.unique(labels2d[labels2d > 0]):
        m = labels2d == lid
        edge = m & ~ndimage.binary_erosion(m)
        rgb[edge] = (255, 40, 40) if lid == highlight else (255, 200, 0)
    rgb = display_slice(rgb)
    scale = max(1, int(np.ceil(512 / max(rgb.shape[:2]))))
    img = Image.fromarray(np.ascontiguousarray(rgb)).resize((rgb.shape[1] * scale, rgb.shape[0] * scale),
                                                            Image.NEAREST)
    ImageDraw.Draw(img).text((6, 6), caption, fill=(255, 255, 255))
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path


def _save_mask(labels: np.ndarray, study: ImagingStudy, path: Path) -> Path:
    import nibabel as nib

    aff = np.array(study.volume.affine, float, copy=True)
    # Working grid is corner-aligned with the input grid (zoom with grid_mode=True): scale the axes
    # and move the origin by half the change of voxel size.
    f = np.array([w / o for w, o in zip(study.spacing, study.volume.spacing, strict=True)])[::-1]  # x, y, z
    aff[:3, 3] += aff[:3, :3] @ ((f - 1) / 2)
    aff[:3, :3] = aff[:3, :3] * f[None, :]
    img = nib.Nifti1Image(np.ascontiguousarray(labels.transpose(2, 1, 0)).astype(np.uint8), aff)
    img.header.set_xyzt_units("mm")
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(img, str(path))
    return path


def _slice_stack(study, seg, les, outdir: Path, stem: str, half: int = 4, step: int = 2) -> list[Path]:
    """Overlays on the slices around the largest lesion, in anatomical order, for a slice slider."""
    z0 = les.working_slice
    out = []
    for z in range(max(0, z0 - half), min(study.image.shape[0], z0 + half + 1), step):
        caption = f"lesion {les.id}, working slice {z} ({(z - z0) * study.spacing[0]:+.1f} mm from its centre)"
        out.append(_overlay_png(study.image[z], seg.labels[z], les.id, outdir / f"{stem}_stack{z:03d}_overlay.png", caption))
    return out


def segment_file(path: Path, outdir: Path, bundle_path: Path | None = None, device: str = "cpu",
                 max_overlays: int = 3) -> SegmentationReport:
    """Segment and measure lesions in an imaging attachment; write overlays and the mask NIfTI.

    Raises:
        UnreadableFile, UnsupportedFile: from intake.
        ModelUnavailable, ConfigError: the bundle cannot be loaded.
    """
    from specialists.imaging.segment import segment_array

    b = seg_bundle(bundle_path, device)
    study = open_study(path, tuple(b.params["working_spacing_mm"]))
    seg = segment_array(b.network, study.image, study.spacing, b.params, device, study.z_scale)
    if study.volume.is_2d:
        seg.lesions[:] = [
            Lesion(**{**les.__dict__, "upper_lobe": None}) for les in seg.lesions]
    overlays = []
    stem = Path(path).name.split(".")[0] or "image"
    for les in seg.lesions[:max_overlays]:
        z = les.working_slice
        caption = (f"lesion {les.id}: {les.long_axis_mm:.1f} x {les.short_axis_mm:.1f} mm "
                   f"(mean {les.mean_diameter_mm:.1f} mm), slice {les.slice_index}")
        overlays.append(_overlay_png(study.image[z], seg.labels[z], les.id,
                                     Path(outdir) / f"{stem}_lesion{les.id}_overlay.png", caption))
    if not seg.lesions:
        mid = study.image.shape[0] // 2
        overlays.append(_overlay_png(study.image[mid], seg.labels[mid], 0, Path(outdir) / f"{stem}_no_lesion.png",
                                     "no lesion found"))
    elif not study.volume.is_2d:
        overlays.extend(_slice_stack(study, seg, max(seg.lesions, key=lambda les: les.volume_mm3), Path(outdir), stem))
    mask_path = _save_mask(seg.labels, study, Path(outdir) / f"{stem}_lesion_mask.nii.gz")
    return SegmentationReport(study, seg.lesions, seg.labels, overlays, mask_path, b, seg.filtered)


@dataclass
class CharacterisationReport:
    segmentation: SegmentationReport
    characters: list  # list[LesionCharacter]
    gradcams: list[Path]
    bundle: LoadedBundle


def characterise_file(path: Path, outdir: Path, seg_bundle_path: Path | None = None,
                      cls_bundle_path: Path | None = None, device: str = "cpu",
                      max_gradcams: int = 3) -> CharacterisationReport:
    """Segment, then characterise each lesion (type, spiculation) with a Grad-CAM PNG for the largest."""
    from specialists.imaging.classify import characterise, extract_patch, gradcam, save_gradcam_png

    seg = segment_file(path, outdir, seg_bundle_path, device)
    b = cls_bundle(cls_bundle_path, device)
    st = seg.study
    patches = np.stack([extract_patch(st.image, st.spacing, (les.working_slice,) + les.centroid[1:],
                                      les.long_axis_mm, b.params) for les in seg.lesions]) if seg.lesions else []
    chars = characterise(b.network, patches, [les.id for les in seg.lesions], b.params, device)
    cams = []
    labels = list(b.params["type_labels"])
    stem = Path(path).name.split(".")[0] or "image"
    for i, ch in enumerate(chars[:max_gradcams]):
        cam = gradcam(b.network, patches[i], labels.index(ch.type), str(b.params.get("gradcam_layer", "features.3")),
                      device)
        cams.append(save_gradcam_png(patches[i], cam, Path(outdir) / f"{stem}_lesion{ch.id}_gradcam.png",
                                     f"lesion {ch.id}: {ch.type}, p={ch.type_probabilities[ch.type]:.2f}"))
    return CharacterisationReport(seg, chars, cams, b)
