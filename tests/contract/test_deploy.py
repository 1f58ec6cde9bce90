"""The deployment files are valid and say what the contracts say (issue: operate and scale).

The Kubernetes manifests are rendered with kustomize (installed by `make bootstrap` from the Go module
proxy) and validated offline against the Kubernetes API schemas shipped in `kubernetes-validate`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from kubernetes_validate import utils as k8s
from premiums_cli.manifests import max_replicas, stale_files
from premiums_common.settings import SERVICE_PORTS
from premiums_contracts.topics import TOPICS, all_topics_with_dead_letters

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES_VERSION = "1.33.0"
CUSTOM_KINDS = {"ScaledObject", "KafkaTopic"}


def kustomize() -> str:
    gopath = subprocess.run(["go", "env", "GOPATH"], capture_output=True, text=True).stdout.strip()
    found = shutil.which("kustomize") or str(Path(gopath or Path.home() / "go") / "bin" / "kustomize")
    assert Path(found).is_file(), "kustomize is installed by `make bootstrap` (go install sigs.k8s.io/kustomize)"
    return found


def rendered(overlay: str) -> list[dict]:
    result = subprocess.run(
        [kustomize(), "build", str(ROOT / "deploy" / "k8s" / "overlays" / overlay)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def test_the_generated_base_is_up_to_date() -> None:
    assert stale_files() == [], "run `premiums manifests`"


@pytest.mark.parametrize("overlay", ["local", "production"])
def test_every_rendered_manifest_passes_the_kubernetes_schemas(overlay: str) -> None:
    resources = rendered(overlay)
    core = [r for r in resources if r["kind"] not in CUSTOM_KINDS]
    assert {r["kind"] for r in core} == {"ConfigMap", "Deployment", "Service", "PodDisruptionBudget"}
    for resource in core:
        k8s.validate(resource, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("overlay", ["local", "production"])
def test_each_service_has_probes_runs_as_non_root_and_takes_secrets_by_reference(overlay: str) -> None:
    resources = rendered(overlay)
    assert not [r for r in resources if r["kind"] == "Secret"], "secrets are referenced, never rendered"
    deployments = {r["metadata"]["name"]: r for r in resources if r["kind"] == "Deployment"}
    assert set(deployments) == set(SERVICE_PORTS)
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        container = pod["containers"][0]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["ports"][0]["containerPort"] == SERVICE_PORTS[name]
        assert all("value" not in e for e in container["env"] if "SECRET" in e["name"] or "KEY" in e["name"])
    budgets = {r["metadata"]["name"] for r in resources if r["kind"] == "PodDisruptionBudget"}
    assert budgets == set(SERVICE_PORTS)


@pytest.mark.parametrize("overlay", ["local", "production"])
def test_autoscaling_never_goes_above_the_partition_count(overlay: str) -> None:
    partitions = min(t.partitions for t in TOPICS if t.name != "clock.events")
    scaled = [r for r in rendered(overlay) if r["kind"] == "ScaledObject"]
    assert {r["metadata"]["name"] for r in scaled} == set(SERVICE_PORTS)
    for obj in scaled:
        assert 1 <= obj["spec"]["minReplicaCount"] <= obj["spec"]["maxReplicaCount"] <= partitions
        assert obj["spec"]["maxReplicaCount"] <= max_replicas(obj["metadata"]["name"])
        assert {t["metadata"]["consumerGroup"] for t in obj["spec"]["triggers"]} == {obj["metadata"]["name"]}


def test_topics_are_strimzi_resources_from_the_one_declarative_list() -> None:
    topics = {r["spec"]["topicName"]: r for r in rendered("production") if r["kind"] == "KafkaTopic"}
    assert set(topics) == {t.name for t in all_topics_with_dead_letters()}
    for topic in all_topics_with_dead_letters():
        assert topics[topic.name]["spec"]["partitions"] == topic.partitions


def test_the_compose_file_runs_every_service_from_the_one_dockerfile() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    services = compose["services"]
    assert {"kafka", "postgres", "mail", *SERVICE_PORTS} <= set(services)
    for name in SERVICE_PORTS:
        assert services[name]["build"]["args"]["SERVICE"] == name
        assert services[name]["build"]["dockerfile"] == "deploy/docker/Dockerfile"
        assert services[name]["environment"][f"{name.upper()}_DATABASE_URL"].endswith(f"/{name}")
    assert services["kafka"]["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    assert (ROOT / "deploy" / "docker" / "Dockerfile").read_text().count("USER 10001") == 1


def test_the_compose_file_is_valid_for_docker_compose() -> None:
    """`docker compose config` without the plugin: compose-go, the library Docker Compose uses, loads it."""
    result = subprocess.run(
        ["go", "run", ".", str(ROOT / "deploy" / "compose.yaml")],
        cwd=ROOT / "deploy" / "tools" / "composecheck",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("valid: 8 services")


def test_the_grafana_dashboard_only_charts_metrics_the_services_export() -> None:
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "premiums-dashboard.json").read_text())
    exported = set()
    for source in (ROOT / "services").rglob("*.py"):
        exported |= set(re.findall(r'(?:Counter|Gauge|Histogram)\(\s*"(premiums_[a-z_]+)"', source.read_text()))
    charted = {
        re.sub(r"_(bucket|count|sum|total)$", "", name)
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"premiums_[a-z_]+", target["expr"])
    }
    exported_bases = {re.sub(r"_total$", "", name) for name in exported}
    assert charted <= exported_bases, charted - exported_bases
