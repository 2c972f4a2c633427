"""Hospital systems in and out: a PACS over DICOMweb, DICOM SEG and SR results, FHIR R4 facts and results.

Modules (import what you use; nothing is loaded at import):

* :mod:`interop.dicomweb` — query (QIDO-RS), retrieve (WADO-RS) and store (STOW-RS) with
  dicomweb-client, with the size of a study checked from its metadata before any download;
* :mod:`interop.orthanc` — start a local Orthanc (Debian's ``orthanc`` + ``orthanc-dicomweb``)
  for tests, demos and the harness;
* :mod:`interop.dicom_results` — segmentation as DICOM SEG and measurements as a TID 1500
  Structured Report, both referencing the source series (highdicom), and reading them back;
* :mod:`interop.fhir_facts` — FHIR R4 resources in, validated, turned into the facts the risk
  models need by their LOINC / SNOMED CT codes (``data/fhir_codes.yaml``), each with its source;
* :mod:`interop.fhir_export` — results out as a FHIR Bundle (RiskAssessment, Observation,
  DiagnosticReport);
* :mod:`interop.synthetic` — synthetic patients (FHIR bundles plus matching CT phantoms as DICOM);
* :mod:`interop.workflow` — the pure functions the CLI and the UI call (find, fetch, results, push).

interop may import specialists, galen, highdicom, dicomweb-client and fhir.resources; never
agent or ui.
"""
