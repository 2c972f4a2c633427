#!/usr/bin/env bash
# System packages the tests drive for real: PostgreSQL (thread store tests), Chromium (browser
# tests) and Orthanc with its DICOMweb plugin (the PACS tests, tests/interop). Idempotent; installs
# only what is missing, with apt as root.
set -euo pipefail
need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
[ -x /usr/bin/chromium ] || need+=(chromium fonts-dejavu-core fonts-noto-cjk)
[ -x /usr/sbin/Orthanc ] || need+=(orthanc)
[ -f /usr/share/orthanc/plugins/libOrthancDicomWeb.so ] || need+=(orthanc-dicomweb)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install_services.sh: need root to apt-get install ${need[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Debian's orthanc package starts a system service where it can; Galen's tests start their own.
apt-get install -y -qq --no-install-recommends "${need[@]}"
