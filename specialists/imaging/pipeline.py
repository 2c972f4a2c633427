"""End-to-end imaging analyses used by the tools: load → check → segment → measure → characterise.

Everything here is plain Python over files: no agent, no LLM. Results are dataclasses;
artifacts (overlay PNGs, the mask NIfTI, Grad-CAM PNGs) are written under a given folder.
Each stage is timed and reported to an optional ``progress(stage, fraction)`` callback
(:mod:`specialists.imaging.progress`).

A segmentation also cuts the classifier's input patches while the volume is in memory and
saves them beside the mask (``<stem>_lesion_patches.npz``), so that characterising the same
lesions later in the conversation (:func:`characterise_saved`) needs no second read of the series.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage

from specialists.imaging.bundle import CLS_BUNDLE, SEG_BUNDLE, LoadedBundle, load_bundle, read_config
from specialists.imaging.intake import (
    WINDOWS,
    Volume,
    display_slice,
    summarise,
    take_volume,
    to_working_spacing,
    window,
)
from specialists.imaging.measure import Lesion
from specialists.imaging.plausibility import SetAside
from specialists.imaging.progress import Progress, Stages

VERSION = "imaging-0.2.0"
SEG_STAGES = ("read", "resample", "lungs", "segment", "filter", "measure", "overlays", "save")
CLS_STAGES = SEG_STAGES + ("classify", "gradcam")


def ood_reasons(vol: Volume, image: np.ndarray, lungs: np.ndarray | None = None) -> list[str]:
    """Why an input is unlike the chest-CT phantoms the models learned from (empty when it is alike)."""
    from specialists.imaging.measure import find_lungs

    reasons = []
    if vol.is_2d:
        reasons.append("it is a single 2-D image, not a CT volume")
    if vol.modality != "CT":
        what = "a photograph or 2-D picture" if vol.modality == "photo" else (
            f"modality {vol.modality}" if vol.modality not in ("unknown", "?") else "not recognisably CT "
            "(its intensities are not Hounsfield units)")
        reasons.append(f"it is {what}, and the models were trained on chest CT")
    else:
        no_lungs = find_lungs(image) is None if lungs is None else lungs.sum() < 0.01 * image.size
        if no_lungs:
            reasons.append("no air-filled lungs were found in it (it does not look like a chest CT)")
    if not vol.is_2d and (not getattr(vol, "spacing_known", True)
                          or any("spacing not recorded" in n for n in getattr(vol, "notes", []))):
        reasons.append("its voxel spacing is not recorded (1 mm was assumed), so sizes in mm are not reliable")
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


def open_study(path: Path, working_spacing: tuple[float, float, float], stages: Stages | None = None) -> ImagingStudy:
    """Load an attachment and resample it to the working spacing (the OOD verdict is added after segmentation)."""
    from specialists.imaging.intake import attachment_kind

    st = stages or Stages()
    kind = attachment_kind(Path(path))
    with st.stage("read"):
        vol = take_volume(Path(path))  # the intake step's read of this file, when it just made one
    with st.stage("resample"):
        image, spacing, z_scale = to_working_spacing(vol, working_spacing)
        if vol.modality == "photo":  # grey levels 0–255: map them onto the CT window so the network can run
            image = image / 255.0 * 1400.0 - 1000.0
    study = ImagingStudy(vol, kind, summarise(vol, kind), image, spacing, z_scale)
    return study


@dataclass
class SegmentationReport:
    study: ImagingStudy
    lesions: list[Lesion]
    labels: np.ndarray
    overlays: list[Path]
    mask_path: Path | None
    bundle: LoadedBundle
    filtered: int = 0  # candidates the false-positive filter removed
    set_aside: list[SetAside] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    engine: str = "torch"
    patches_path: Path | None = None
    seconds: dict[str, float] = field(default_factory=dict)


def seg_bundle(path: Path | None = None, device: str = "cpu") -> LoadedBundle:
    """The segmentation bundle: ``path`` (a user's bundle) or the shipped one."""
    return load_bundle(Path(path) if path else SEG_BUNDLE, SEG_BUNDLE, device)


def cls_bundle(path: Path | None = None, device: str = "cpu") -> LoadedBundle:
    """The characterisation bundle: ``path`` (a user's bundle) or the shipped one."""
    return load_bundle(Path(path) if path else CLS_BUNDLE, CLS_BUNDLE, device)


def cls_patch_params(path: Path | None = None) -> dict[str, Any] | None:
    """The classifier bundle's patch geometry (config only, no weights loaded); None when it cannot be read."""
    from galen.errors import ConfigError

    try:
        params = dict(read_config(Path(path) if path else CLS_BUNDLE).get("galen") or {})
    except ConfigError:
        return None
    keys = ("patch_size", "patch_scale", "min_patch_mm", "slice_offsets", "hu_window")
    return {k: params[k] for k in keys} if all(k in params for k in keys) else None


def _geometry_key(params: dict[str, Any]) -> str:
    keys = ("patch_size", "patch_scale", "min_patch_mm", "slice_offsets", "hu_window")
    return hashlib.sha256(json.dumps({k: params[k] for k in keys}, sort_keys=True).encode()).hexdigest()[:16]


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


def _slice_stack(study, labels, les, outdir: Path, stem: str, half: int = 4, step: int = 2) -> list[Path]:
    """Overlays on the slices around the largest lesion, in anatomical order, for a slice slider."""
    z0 = les.working_slice
    out = []
    for z in range(max(0, z0 - half), min(study.image.shape[0], z0 + half + 1), step):
        caption = f"{les.category} {les.id}, working slice {z} ({(z - z0) * study.spacing[0]:+.1f} mm from its centre)"
        out.append(_overlay_png(study.image[z], labels[z], les.id, outdir / f"{stem}_stack{z:03d}_overlay.png", caption))
    return out


def save_patches(study: ImagingStudy, labels: np.ndarray, lesions: list[Lesion], params: dict[str, Any],
                 path: Path) -> Path:
    """Cut and save the classifier's patches of every lesion, with its outline and 2 mm neighbourhood on each."""
    from specialists.imaging.classify import extract_patch
    from specialists.imaging.explain import lesion_on_patch, patch_grid

    patches, outlines, near, pixel = [], [], [], []
    for les in lesions:
        c = (float(les.working_slice),) + tuple(les.centroid[1:])
        patches.append(extract_patch(study.image, study.spacing, c, les.long_axis_mm, params))
        outlines.append(lesion_on_patch(labels, c, les.long_axis_mm, params, study.spacing, 0.0, label=les.id))
        near.append(lesion_on_patch(labels, c, les.long_axis_mm, params, study.spacing, 2.0, label=les.id))
        pixel.append(patch_grid(c, les.long_axis_mm, params, study.spacing)[2])
    size = int(params["patch_size"])
    n_ch = len(params["slice_offsets"])
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, ids=np.array([les.id for les in lesions], int),
             patches=np.stack(patches) if patches else np.zeros((0, n_ch, size, size), np.float32),
             outlines=np.stack(outlines) if outlines else np.zeros((0, size, size), bool),
             near=np.stack(near) if near else np.zeros((0, size, size), bool), pixel_mm=np.array(pixel, float),
             geometry=_geometry_key(params))
    return path


def segment_file(path: Path, outdir: Path, bundle_path: Path | None = None, device: str = "cpu",
                 max_overlays: int = 3, progress: Progress | None = None, options: Any = None,
                 cls_params: dict[str, Any] | None = None, stages: Stages | None = None) -> SegmentationReport:
    """Segment and measure lesions in an imaging attachment; write overlays, the mask NIfTI and the patches.

    Args:
        path: the attachment.
        outdir: where the artifacts go.
        bundle_path: a user's segmentation bundle (the shipped one when None).
        device: ``cpu`` or ``cuda``.
        max_overlays: overlays of this many lesions (largest first), plus a slice stack of the largest.
        progress: ``progress(stage, fraction)`` callback.
        options: :class:`~specialists.imaging.segment.InferenceOptions` (the bundle's fast path when None).
        cls_params: classifier patch geometry (:func:`cls_patch_params` when None); no patches when unreadable.
        stages: an existing stage timer (a characterisation passes its own).

    Raises:
        UnreadableFile, UnsupportedFile: from intake.
        ModelUnavailable, ConfigError: the bundle cannot be loaded.
    """
    from specialists.imaging.segment import segment_array

    st = stages or Stages(progress, SEG_STAGES)
    b = seg_bundle(bundle_path, device)
    study = open_study(path, tuple(b.params["working_spacing_mm"]), st)
    seg = segment_array(b.network, study.image, study.spacing, b.params, device, study.z_scale, options, b.path, st)
    study.ood = ood_reasons(study.volume, study.image, seg.lungs)
    if study.volume.is_2d:
        seg.lesions[:] = [Lesion(**{**les.__dict__, "upper_lobe": None}) for les in seg.lesions]
    overlays = []
    stem = Path(path).name.split(".")[0] or "image"
    outdir = Path(outdir)
    with st.stage("overlays"):
        for les in seg.lesions[:max_overlays]:
            z = les.working_slice
            caption = (f"{les.category} {les.id}: {les.long_axis_mm:.1f} x {les.short_axis_mm:.1f} mm "
                       f"(mean {les.mean_diameter_mm:.1f} mm), slice {les.slice_index}")
            overlays.append(_overlay_png(study.image[z], seg.labels[z], les.id,
                                         outdir / f"{stem}_lesion{les.id}_overlay.png", caption))
        if not seg.lesions:
            mid = study.image.shape[0] // 2
            overlays.append(_overlay_png(study.image[mid], seg.labels[mid], 0, outdir / f"{stem}_no_lesion.png",
                                         "no lesion found"))
        elif not study.volume.is_2d:
            overlays.extend(_slice_stack(study, seg.labels, max(seg.lesions, key=lambda les: les.volume_mm3), outdir, stem))
    with st.stage("save"):
        mask_path = _save_mask(seg.labels, study, outdir / f"{stem}_lesion_mask.nii.gz")
        geometry = cls_params if cls_params is not None else cls_patch_params()
        patches_path = save_patches(study, seg.labels, seg.lesions, geometry,
                                    outdir / f"{stem}_lesion_patches.npz") if geometry else None
    if stages is None:
        st.finish()
    return SegmentationReport(study, seg.lesions, seg.labels, overlays, mask_path, b, seg.filtered, seg.set_aside,
                              seg.warnings, seg.engine, patches_path, dict(st.seconds))


@dataclass
class CharacterisationReport:
    segmentation: SegmentationReport | None
    characters: list  # list[LesionCharacter]
    gradcams: list[Path]
    bundle: LoadedBundle
    attribution: dict[int, float] = field(default_factory=dict)  # lesion id -> share of Grad-CAM within 2 mm of it
    seconds: dict[str, float] = field(default_factory=dict)


def characterise_saved(patches_path: Path, outdir: Path, b: LoadedBundle, device: str = "cpu", max_gradcams: int = 3,
                       stages: Stages | None = None, stem: str = "image") -> tuple[list, list[Path], dict[int, float]]:
    """Characterise the lesions whose patches a segmentation saved; Grad-CAM PNGs for the first ``max_gradcams``.

    Raises:
        InvalidInput: the file is missing, unreadable or cut with another patch geometry than the bundle's.
    """
    from galen.errors import InvalidInput
    from specialists.imaging.classify import characterise
    from specialists.imaging.explain import gradcam, save_png, share_inside

    st = stages or Stages()
    try:
        with np.load(patches_path) as z:
            ids, patches, outlines, near = z["ids"].tolist(), z["patches"], z["outlines"], z["near"]
            pixel, geometry = z["pixel_mm"], str(z["geometry"])
    except (OSError, KeyError, ValueError) as e:
        raise InvalidInput(f"The saved lesion patches {Path(patches_path).name} cannot be read ({e}).") from e
    if geometry != _geometry_key(b.params):
        raise InvalidInput("The saved lesion patches were cut for another classifier's geometry.")
    with st.stage("classify"):
        chars = characterise(b.network, patches, ids, b.params, device)
    cams, shares = [], {}
    labels = list(b.params["type_labels"])
    layer = str(b.params.get("gradcam_layer", "features.3"))
    with st.stage("gradcam"):
        for i, ch in enumerate(chars[:max_gradcams]):
            cam = gradcam(b.network, patches[i], labels.index(ch.type), layer, device)
            share = share_inside(cam, near[i])
            shares[ch.id] = share
            title = f"lesion {ch.id}: {ch.type}, p = {ch.type_probabilities[ch.type]:.2f}"
            cams.append(save_png(patches[i], cam, Path(outdir) / f"{stem}_lesion{ch.id}_gradcam.png", title,
                                 outline=outlines[i], pixel_mm=float(pixel[i]), share=share))
    return chars, cams, shares


def characterise_file(path: Path, outdir: Path, seg_bundle_path: Path | None = None,
                      cls_bundle_path: Path | None = None, device: str = "cpu", max_gradcams: int = 3,
                      progress: Progress | None = None, options: Any = None) -> CharacterisationReport:
    """Segment, then characterise each lesion (type, spiculation) with Grad-CAM PNGs for the largest."""
    st = Stages(progress, CLS_STAGES)
    b = cls_bundle(cls_bundle_path, device)
    seg = segment_file(path, outdir, seg_bundle_path, device, progress=progress, options=options,
                       cls_params=b.params, stages=st)
    stem = Path(path).name.split(".")[0] or "image"
    assert seg.patches_path is not None
    chars, cams, shares = characterise_saved(seg.patches_path, outdir, b, device, max_gradcams, st, stem)
    st.finish()
    seg.seconds = dict(st.seconds)
    return CharacterisationReport(seg, chars, cams, b, shares, dict(st.seconds))
