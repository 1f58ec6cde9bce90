"""`premiums manifests`: the Kubernetes base for every service, generated from one definition.

One function describes a service's Deployment, Service, PodDisruptionBudget and KEDA ScaledObject; the
topics become Strimzi `KafkaTopic` resources from the contracts' declarative list, so nothing is copied by
hand. The output is committed in `deploy/k8s/base/` and a test fails when it is out of date.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml
from premiums_common.settings import SERVICE_PORTS
from premiums_contracts.topics import TOPICS, all_topics_with_dead_letters

from premiums_cli.idle import consumer_groups
from premiums_cli.stack import project_root

PART_OF = "premiums"
IMAGE = "premiums-{service}:latest"
GRACE_SECONDS = 40  # more than the service's own drain (uvicorn 25 s, consumers 20 s)


def _labels(service: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": service, "app.kubernetes.io/part-of": PART_OF}


def _secret(name: str, key: str) -> dict[str, Any]:
    return {"name": name, "valueFrom": {"secretKeyRef": {"name": "premiums-secrets", "key": key}}}


def deployment(service: str) -> dict[str, Any]:
    port = SERVICE_PORTS[service]
    probe = {"httpGet": {"path": "/readyz", "port": "http"}, "periodSeconds": 5, "timeoutSeconds": 3}
    env = [
        {"name": f"{service.upper()}_HTTP_HOST", "value": "0.0.0.0"},
        _secret(f"{service.upper()}_DATABASE_URL", f"{service}-database-url"),
        _secret("PREMIUMS_JWT_SECRET", "jwt-secret"),
    ]
    if service == "payments":
        env.append(_secret("PREMIUMS_DATA_KEY", "data-key"))
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": service, "labels": _labels(service)},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": _labels(service)},
            "template": {
                "metadata": {
                    "labels": _labels(service),
                    "annotations": {
                        "prometheus.io/scrape": "true",
                        "prometheus.io/port": str(port),
                        "prometheus.io/path": "/metrics",
                    },
                },
                "spec": {
                    "terminationGracePeriodSeconds": GRACE_SECONDS,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 10001,
                        "runAsGroup": 10001,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [
                        {
                            "name": service,
                            "image": IMAGE.format(service=service),
                            "ports": [{"name": "http", "containerPort": port}],
                            "envFrom": [{"configMapRef": {"name": "premiums-config"}}],
                            "env": env,
                            "startupProbe": {**probe, "failureThreshold": 30},
                            "readinessProbe": probe,
                            "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10},
                            "resources": {
                                "requests": {"cpu": "100m", "memory": "160Mi"},
                                "limits": {"memory": "512Mi"},
                            },
                            "securityContext": {
                                "allowPrivilegeEscalation": False,
                                "readOnlyRootFilesystem": True,
                                "capabilities": {"drop": ["ALL"]},
                            },
                        }
                    ],
                },
            },
        },
    }


def service_resource(service: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": service, "labels": _labels(service)},
        "spec": {"selector": _labels(service), "ports": [{"name": "http", "port": 80, "targetPort": "http"}]},
    }


def disruption_budget(service: str) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": service, "labels": _labels(service)},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": _labels(service)}},
    }


def max_replicas(service: str) -> int:
    """Never more replicas than partitions: an extra consumer in the group would sit idle."""
    partitions = {t.name: t.partitions for t in TOPICS}
    return min(partitions[t] for t in consumer_groups()[service])


def scaled_object(service: str) -> dict[str, Any]:
    """KEDA scales a service on its consumer group's lag, between 1 and its partition count."""
    triggers = [
        {
            "type": "kafka",
            "metadata": {
                "bootstrapServers": "premiums-kafka-bootstrap:9092",
                "consumerGroup": service,
                "topic": topic,
                "lagThreshold": "500",
                "offsetResetPolicy": "earliest",
            },
        }
        for topic in consumer_groups()[service]
    ]
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": service, "labels": _labels(service)},
        "spec": {
            "scaleTargetRef": {"name": service},
            "minReplicaCount": 1,
            "maxReplicaCount": max_replicas(service),
            "triggers": triggers,
        },
    }


def kafka_topics() -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "kafka.strimzi.io/v1beta2",
            "kind": "KafkaTopic",
            "metadata": {"name": topic.name.replace(".", "-"), "labels": {"strimzi.io/cluster": "premiums"}},
            "spec": {
                "topicName": topic.name,
                "partitions": topic.partitions,
                "replicas": 3,
                "config": {"retention.ms": topic.retention_ms, "min.insync.replicas": 2},
            },
        }
        for topic in all_topics_with_dead_letters()
    ]


def config_map() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "premiums-config", "labels": {"app.kubernetes.io/part-of": PART_OF}},
        "data": {
            "KAFKA_BOOTSTRAP_SERVERS": "premiums-kafka-bootstrap:9092",
            "PREMIUMS_CLOCK": "wall",
            "SMTP_HOST": "smtp",
            "SMTP_PORT": "25",
            "PREMIUMS_LOG_LEVEL": "INFO",
        },
    }


def base_files() -> dict[str, list[dict[str, Any]]]:
    services = list(SERVICE_PORTS)
    return {
        "config.yaml": [config_map()],
        "services.yaml": [r for s in services for r in (deployment(s), service_resource(s), disruption_budget(s))],
        "autoscaling.yaml": [scaled_object(s) for s in services],
        "topics.yaml": kafka_topics(),
    }


def render(resources: list[dict[str, Any]]) -> str:
    header = "# Generated by `premiums manifests` from cli/premiums_cli/manifests.py; do not edit.\n"
    return header + str(yaml.safe_dump_all(resources, sort_keys=False, width=120))


def base_dir() -> Path:
    return project_root() / "deploy" / "k8s" / "base"


def stale_files() -> list[str]:
    return [
        name
        for name, resources in base_files().items()
        if not (base_dir() / name).is_file() or (base_dir() / name).read_text() != render(resources)
    ]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("manifests", help="write the Kubernetes base manifests (deploy/k8s/base)")
    parser.add_argument("--check", action="store_true", help="fail if the committed files are out of date")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if args.check:
        stale = stale_files()
        if stale:
            print(f"out of date: {', '.join(stale)}; run `premiums manifests`", file=sys.stderr)
            return 1
        return 0
    base_dir().mkdir(parents=True, exist_ok=True)
    for name, resources in base_files().items():
        (base_dir() / name).write_text(render(resources))
    print(f"wrote {len(base_files())} files to {base_dir().relative_to(project_root())}")
    return 0
