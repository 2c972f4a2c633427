"""Every real DICOM file shipped with pydicom (and pydicom-data) goes through intake: decoded or refused, never a crash."""

from __future__ import annotations

import pytest

from specialists.imaging.dicom_pixels import REFUSAL_CODES


def test_every_decoder_pydicom_knows_is_installed():
    """Setup installs a decoder for every transfer syntax pydicom can decode through its plugins."""
    from pydicom.pixels import get_decoder
    from pydicom.pixels.decoders.base import _PIXEL_DATA_DECODERS

    missing = {str(uid): get_decoder(uid).missing_dependencies for uid in _PIXEL_DATA_DECODERS
               if not get_decoder(uid).is_available}
    assert not missing, missing


@pytest.mark.slow
def test_corpus_decoded_or_refused_with_a_reason():
    from specialists.imaging.dicom_survey import counts, survey

    outcomes = survey()
    assert len(outcomes) >= 100, "pydicom's test files should give at least 100 files with pixel data"
    crashes = [f"{o.path.name}: {o.detail}" for o in outcomes if o.outcome == "crash"]
    assert not crashes, crashes
    for o in outcomes:
        if o.outcome.startswith("refused"):
            code = o.outcome.split(": ", 1)[1]
            assert code in REFUSAL_CODES, (o.path.name, code)
            assert o.path.name in o.detail or "series" in o.detail, o.detail  # the file is named
    c = counts(outcomes)
    assert c.get("volume", 0) >= 1 and c.get("2-D image", 0) >= 50


def test_named_failures_from_the_private_set(tmp_path):
    """The classes that failed on real files: CR without orientation, JPEG lossless, a header with an unknown VR."""
    from pydicom.data import get_testdata_file

    from galen.errors import UnreadableFile
    from specialists.imaging.intake import describe_attachment, load_volume

    cr = describe_attachment(get_testdata_file("RG1_UNCR.dcm", download=False))  # CR, PixelSpacing 0\0, no IOP
    assert cr.modality == "CR" and cr.shape == (1, 1955, 1841) and "pixel spacing unknown" in cr.summary
    ll = describe_attachment(get_testdata_file("JPEG-LL.dcm", download=False))  # JPEG lossless, process 14
    assert ll.shape == (1, 1024, 256)
    plain = load_volume(get_testdata_file("MR_small.dcm", download=False))
    for name in ("MR_small_jpeg_ls_lossless.dcm", "MR_small_jp2klossless.dcm", "MR_small_RLE.dcm",
                 "MR_small_bigendian.dcm"):  # lossless encodings of the same image decode to the same pixels
        assert (load_volume(get_testdata_file(name, download=False)).array == plain.array).all(), name
    raw = open(get_testdata_file("CT_small.dcm", download=False), "rb").read()
    at = raw.find(b"\x10\x00\x10\x00PN")  # (0010,0010) PatientName, explicit VR 'PN'
    bad = tmp_path / "unknown_vr.dcm"
    bad.write_bytes(raw[:at + 4] + b"ZZ" + raw[at + 6:])
    with pytest.raises(UnreadableFile, match="unknown_vr.dcm is not a readable DICOM file"):
        describe_attachment(bad)
