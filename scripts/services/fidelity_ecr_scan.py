"""ECR basic scanning (scan on push) for the images tests push to the local OCI registry, which
moto never sees (STACKCTL_REGISTRY_ENDPOINT sends pushes there): DescribeImageScanFindings as
ECR answers it (ECR User Guide, "Scan images for software vulnerabilities in Amazon ECR",
"Retrieving the findings for basic scans", "Troubleshooting image scanning"; ECR API
Reference, DescribeImageScanFindings and ImageScanStatus):

- no image of that digest in the repository: ImageNotFoundException; a repository without
  scan on push: ScanNotFoundException (no scan was made);
- the scan takes a while: IN_PROGRESS, no findings, for MOTO_ECR_SCAN_SECONDS (default 2)
  after the image is first asked about;
- basic scanning reads operating-system packages only: an image with no package database of a
  distribution it supports (the binary alone, stackctl's default) is UNSUPPORTED_IMAGE;
- otherwise COMPLETE, each installed package at a version the feed lists being a finding, with
  the counts by severity.

The feed, ecr_vulnerabilities.json, is a test fixture (which versions it lists is not advice),
standing in for the CVE database. moto's own answer (one fixed HIGH finding for any image it
holds) stays for images pushed through its API.
"""
import gzip
import io
import json
import os
import tarfile
import time
import urllib.error
import urllib.request

from moto.core.utils import iso_8601_datetime_without_milliseconds, utcnow
from moto.ecr import models as ecr_models
from moto.ecr.exceptions import ImageNotFoundException, ScanNotFoundException

SCAN_SECONDS = float(os.environ.get("MOTO_ECR_SCAN_SECONDS", "2"))
FEED = os.path.join(os.path.dirname(__file__), "ecr_vulnerabilities.json")
SUPPORTED = {"debian", "ubuntu", "alpine", "amzn", "centos", "rhel", "ol"}
MANIFESTS = ",".join(
    [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)
_first_seen = {}


def _registry():
    address = os.environ.get("STACKCTL_TEST_REGISTRY")
    if not address:
        path = os.path.join(os.environ.get("STACKCTL_TEST_STATE", "."), "registry.address")
        if os.path.exists(path):
            address = open(path).read().strip()
    return address


def _get(url, accept=None):
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            return r.read()
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return None
        raise


def _files(registry, repository, manifest):
    """The image's files as its layers leave them: path -> bytes (later layers win)."""
    files = {}
    for layer in manifest.get("layers", []):
        blob = _get(f"http://{registry}/v2/{repository}/blobs/{layer['digest']}")
        data = gzip.decompress(blob) if blob[:2] == b"\x1f\x8b" else blob
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            for m in tar.getmembers():
                name = m.name.lstrip("./")
                base = os.path.basename(name)
                if base.startswith(".wh."):
                    files.pop(os.path.join(os.path.dirname(name), base[4:]), None)
                elif m.isfile() and name in ("etc/os-release", "usr/lib/os-release", "var/lib/dpkg/status", "lib/apk/db/installed"):
                    files[name] = tar.extractfile(m).read()
    return files


def _os_release(files):
    text = (files.get("etc/os-release") or files.get("usr/lib/os-release") or b"").decode()
    fields = dict(
        line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#")
    )
    return fields.get("ID", "").strip('"'), fields.get("VERSION_ID", "").strip('"')


def _packages(files):
    """Installed (name, version) pairs from dpkg's or apk's database."""
    out = []
    status = files.get("var/lib/dpkg/status")
    if status:
        for para in status.decode().split("\n\n"):
            f = {}
            for line in para.splitlines():
                if ": " in line and not line.startswith(" "):
                    k, v = line.split(": ", 1)
                    f[k] = v
            if f.get("Status", "").endswith(" installed") and "Package" in f:
                out.append((f["Package"], f.get("Version", "")))
    apk = files.get("lib/apk/db/installed")
    if apk:
        for para in apk.decode().split("\n\n"):
            f = dict(line.split(":", 1) for line in para.splitlines() if ":" in line)
            if "P" in f:
                out.append((f["P"], f.get("V", "")))
    return out


def _scan(registry, repository, digest, repo):
    raw = _get(f"http://{registry}/v2/{repository}/manifests/{digest}", MANIFESTS)
    image_id = {"imageDigest": digest}
    if raw is None:
        raise ImageNotFoundException(
            image_id=f"{{imageDigest:'{digest}'}}",
            repository_name=repository,
            registry_id=repo.registry_id,
        )
    if not repo.image_scanning_configuration.get("scanOnPush"):
        raise ScanNotFoundException(
            image_id=f"{{imageDigest:'{digest}'}}",
            repository_name=repository,
            registry_id=repo.registry_id,
        )
    answer = {"registryId": repo.registry_id, "repositoryName": repository, "imageId": image_id}
    first = _first_seen.setdefault((repository, digest), time.time())
    if time.time() - first < SCAN_SECONDS:
        answer["imageScanStatus"] = {"status": "IN_PROGRESS", "description": "The scan is in progress."}
        return answer
    files = _files(registry, repository, json.loads(raw))
    distro, release = _os_release(files)
    packages = _packages(files)
    if distro not in SUPPORTED or not packages:
        answer["imageScanStatus"] = {
            "status": "UNSUPPORTED_IMAGE",
            "description": "UnsupportedImageError: The operating system and/or package manager are not supported.",
        }
        return answer
    feed = json.load(open(FEED))["vulnerabilities"]
    findings, counts = [], {}
    for name, version in packages:
        for v in feed:
            if v["distro"] == distro and v["package"] == name and version in v["versions"]:
                findings.append(
                    {
                        "name": v["cve"],
                        "uri": f"https://security-tracker.debian.org/tracker/{v['cve']}",
                        "severity": v["severity"],
                        "attributes": [
                            {"key": "package_version", "value": version},
                            {"key": "package_name", "value": name},
                        ],
                    }
                )
                counts[v["severity"]] = counts.get(v["severity"], 0) + 1
    answer["imageScanStatus"] = {"status": "COMPLETE", "description": "The scan was completed successfully."}
    answer["imageScanFindings"] = {
        "imageScanCompletedAt": iso_8601_datetime_without_milliseconds(utcnow()),
        "vulnerabilitySourceUpdatedAt": iso_8601_datetime_without_milliseconds(utcnow()),
        "findings": findings,
        "findingSeverityCounts": counts,
    }
    return answer


_describe = ecr_models.ECRBackend.describe_image_scan_findings


def describe_image_scan_findings(self, registry_id, repository_name, image_id):
    repo = self._get_repository(repository_name, registry_id)
    digest = image_id.get("imageDigest")
    registry = _registry()
    held = any(i.image_digest == digest for i in repo.images)
    if held or not digest or not registry:
        return _describe(self, registry_id, repository_name, image_id)
    return _scan(registry, repository_name, digest, repo)


ecr_models.ECRBackend.describe_image_scan_findings = describe_image_scan_findings
