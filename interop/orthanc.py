"""A local Orthanc PACS with its DICOMweb plugin, for tests, demos and the evaluation harness.

Debian's ``orthanc`` and ``orthanc-dicomweb`` packages (installed by
``scripts/install_services.sh``) provide the server. :class:`OrthancServer` writes a
configuration into a temporary folder (storage and index there too), starts Orthanc on
127.0.0.1 at a free port, with HTTP Basic authentication, remote access off and the DICOM
(DIMSE) listener off, waits until it answers, and stops it. A real deployment runs Orthanc (or
any DICOMweb PACS) as a service and points ``GALEN_PACS_URL`` at its DICOMweb root.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from galen.errors import BackendUnavailable, ModelUnavailable

BINARY_CANDIDATES = ("/usr/sbin/Orthanc", "/usr/bin/Orthanc")
PLUGIN_CANDIDATES = ("/usr/share/orthanc/plugins/libOrthancDicomWeb.so",
                     "/usr/lib/orthanc/plugins/libOrthancDicomWeb.so")


def find_orthanc() -> tuple[str, str]:
    """Paths of the Orthanc binary and its DICOMweb plugin, or ``ModelUnavailable`` saying what to install."""
    binary = next((b for b in BINARY_CANDIDATES if Path(b).is_file()), shutil.which("Orthanc"))
    plugin = next((p for p in PLUGIN_CANDIDATES if Path(p).is_file()), None)
    if not binary or not plugin:
        missing = " and ".join(x for x, ok in (("orthanc", binary), ("orthanc-dicomweb", plugin)) if not ok)
        raise ModelUnavailable(f"Orthanc with its DICOMweb plugin is not installed (missing: {missing}).",
                               hint="Run scripts/install_services.sh (apt-get install orthanc orthanc-dicomweb).")
    return binary, plugin


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class OrthancServer:
    """A throw-away Orthanc on 127.0.0.1; use as a context manager.

    Attributes:
        url: the DICOMweb root, e.g. ``http://127.0.0.1:8042/dicom-web``.
        rest: Orthanc's own REST root (used only to inspect or reset it).
        username, password: the Basic credentials it accepts.
    """

    def __init__(self, folder: Path | None = None, username: str = "galen", password: str = "galen-test",
                 startup_timeout_s: float = 60.0) -> None:
        self.binary, self.plugin = find_orthanc()
        self._tmp = None if folder else tempfile.TemporaryDirectory(prefix="galen-orthanc-")
        self.folder = Path(folder) if folder else Path(self._tmp.name)
        self.username, self.password = username, password
        self.port = free_port()
        self.rest = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.rest}/dicom-web"
        self.startup_timeout_s = startup_timeout_s
        self._proc: subprocess.Popen | None = None

    def config(self) -> dict:
        return {
            "Name": "GalenTestPACS",
            "StorageDirectory": str(self.folder / "storage"),
            "IndexDirectory": str(self.folder / "index"),
            "HttpPort": self.port,
            "RemoteAccessAllowed": False,
            "AuthenticationEnabled": True,
            "RegisteredUsers": {self.username: self.password},
            "DicomServerEnabled": False,
            "HttpDescribeErrors": True,
            "Plugins": [self.plugin],
            "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": False, "Host": "127.0.0.1",
                         "Ssl": False, "StudiesMetadata": "Full", "SeriesMetadata": "Full"},
        }

    def start(self) -> OrthancServer:
        import requests

        cfg = self.folder / "orthanc.json"
        self.folder.mkdir(parents=True, exist_ok=True)
        cfg.write_text(json.dumps(self.config(), indent=2))
        self._log = open(self.folder / "orthanc.log", "wb")  # noqa: SIM115 - closed in stop()
        self._proc = subprocess.Popen([self.binary, str(cfg)], stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise BackendUnavailable(f"Orthanc exited at start (status {self._proc.returncode}); see "
                                         f"{self.folder / 'orthanc.log'}.")
            try:
                r = requests.get(f"{self.rest}/system", auth=(self.username, self.password), timeout=2)
                if r.status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise BackendUnavailable(f"Orthanc did not answer within {self.startup_timeout_s:.0f} s.")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
        self._proc = None
        if getattr(self, "_log", None):
            self._log.close()
        if self._tmp is not None:
            self._tmp.cleanup()

    def __enter__(self) -> OrthancServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
