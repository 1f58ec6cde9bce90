"""Kafka 4.x: one KRaft node (broker + controller) from the Maven jars in `deploy/kafka/target/libs`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

from premiums_common.topics import TopicsError, create_topics

from premiums_cli.stack import processes
from premiums_cli.stack.blocking import run_blocking
from premiums_cli.stack.component import Component
from premiums_cli.stack.environment import kafka_address
from premiums_cli.stack.errors import StackError
from premiums_cli.stack.progress import say

MIN_JAVA = 17
# The local broker shares two cores with PostgreSQL and every service, and lives for minutes to hours. C1 alone
# (no C2 recompilation) and the serial collector halve its CPU for the same work: measured with
# `premiums bench --members 2000 --phases portal pipeline` on a fresh stack, 18.5 CPU s with C2 and G1, 7.8 with
# these. A long-lived broker on its own hosts (deploy/k8s) keeps the JVM's defaults.
JVM_OPTIONS = [
    "-Xms256m",
    "-Xmx768m",
    "-XX:+UseSerialGC",
    "-XX:TieredStopAtLevel=1",
    "-Djava.awt.headless=true",
]


def _java() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").is_file():
        return str(Path(java_home) / "bin" / "java")
    found = shutil.which("java")
    if found is None:
        raise StackError(
            f"kafka: `java` was not found. Install a Java {MIN_JAVA}+ runtime "
            "(Debian/Ubuntu: apt-get install -y openjdk-17-jre-headless) or set JAVA_HOME."
        )
    return found


def java_major_version(java: str) -> int:
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False, timeout=30)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if not match:
        raise StackError(f"kafka: cannot read the Java version from `{java} -version`:\n{out.stderr.strip()}")
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major  # "1.8" means Java 8


class Kafka(Component):
    name = "kafka"
    ready_timeout = 120.0

    @property
    def host(self) -> str:
        return kafka_address().host

    @property
    def port(self) -> int:
        return kafka_address().port

    @property
    def controller_port(self) -> int:
        return self.port + 1

    @property
    def ports(self) -> tuple[int, ...]:
        return (self.port, self.controller_port)

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def properties(self) -> Path:
        return self.paths.kafka / "server.properties"

    @property
    def marker(self) -> str:
        return str(self.properties)

    @property
    def libs(self) -> Path:
        return self.paths.kafka_deploy / "target" / "libs"

    def _jvm_options(self) -> list[str]:
        log_config = self.paths.kafka_deploy / "log4j2.properties"
        return [
            *JVM_OPTIONS,
            f"-Dlog4j2.configurationFile={log_config}",
            f"-Dkafka.logs.dir={self.paths.kafka / 'logs'}",
        ]

    def _java_command(self, java: str, main_class: str, *args: str) -> list[str]:
        return [java, *self._jvm_options(), "-cp", f"{self.libs}/*", main_class, *args]

    # ---- prepare: jars, config, storage --------------------------------------------------------
    def prepare(self) -> None:
        java = _java()
        major = java_major_version(java)
        if major < MIN_JAVA:
            raise StackError(f"kafka: Kafka 4.x needs Java {MIN_JAVA}+, but `{java}` is Java {major}.")
        self._build_jars()
        self._write_properties()
        self._format_storage(java)

    def _build_jars(self) -> None:
        if any(self.libs.glob("kafka_2.13-*.jar")):
            return
        mvn = shutil.which("mvn")
        if mvn is None:
            raise StackError(
                f"kafka: {self.libs} is missing and `mvn` was not found to build it. Install Maven "
                "(Debian/Ubuntu: apt-get install -y maven), then run `premiums stack up` again."
            )
        pom = self.paths.kafka_deploy / "pom.xml"
        say(self.name, f"fetching the Kafka jars with Maven ({pom})…")
        result = subprocess.run([mvn, "-B", "-q", "-f", str(pom), "package"], capture_output=True, text=True)
        if result.returncode != 0 or not any(self.libs.glob("kafka_2.13-*.jar")):
            output = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
            raise StackError(f"kafka: `mvn -f {pom} package` failed (exit {result.returncode}):\n{output}")

    def _write_properties(self) -> None:
        template = (self.paths.kafka_deploy / "server.properties").read_text()
        text = (
            template.replace("@DATA@", str(self.paths.kafka))
            .replace("@CONTROLLER_PORT@", str(self.controller_port))
            .replace("@PORT@", str(self.port))
        )
        (self.paths.kafka / "logs").mkdir(parents=True, exist_ok=True)
        if not self.properties.is_file() or self.properties.read_text() != text:
            self.properties.write_text(text)

    def _format_storage(self, java: str) -> None:
        if (self.paths.kafka / "data" / "meta.properties").is_file():
            return
        id_file = self.paths.kafka / "cluster-id"
        cluster_id = id_file.read_text().strip() if id_file.is_file() else ""
        if not cluster_id:
            out = self._run_java(java, "kafka.tools.StorageTool", "random-uuid")
            cluster_id = out.strip().splitlines()[-1].strip()
            id_file.write_text(cluster_id + "\n")
        say(self.name, f"formatting storage (cluster id {cluster_id})…")
        self._run_java(java, "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(self.properties))

    def _run_java(self, java: str, main_class: str, *args: str) -> str:
        command = self._java_command(java, main_class, *args)
        result = subprocess.run(command, capture_output=True, text=True, cwd=self.paths.root, timeout=120)
        if result.returncode != 0:
            raise StackError(
                f"kafka: `{main_class} {' '.join(args)}` failed (exit {result.returncode}):\n"
                f"{(result.stderr or result.stdout).strip()[-3000:]}"
            )
        return result.stdout

    # ---- run -----------------------------------------------------------------------------------
    def spawn(self) -> int:
        command = self._java_command(_java(), "kafka.Kafka", str(self.properties))
        return processes.spawn_detached(command, log=self.log_file, cwd=self.paths.root)

    def answering(self) -> bool:
        if not processes.port_answers(self.host, self.port):
            return False
        try:
            return run_blocking(asyncio.wait_for(self._describe_cluster(), timeout=10))
        except Exception:
            return False

    async def _describe_cluster(self) -> bool:
        from aiokafka.admin import AIOKafkaAdminClient

        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, request_timeout_ms=5000)
        with _quiet_aiokafka():
            try:
                await admin.start()
                cluster = await admin.describe_cluster()
                return bool(cluster.get("brokers")) and cluster.get("controller_id", -1) >= 0
            finally:
                await admin.close()

    def provision(self) -> None:
        try:
            created = run_blocking(asyncio.wait_for(create_topics(self.bootstrap), timeout=90))
            if created:
                say(self.name, f"created {created} topics")
        except TimeoutError as exc:
            raise StackError("kafka: topics did not appear in the metadata within 90 s") from exc
        except TopicsError as exc:
            raise StackError(f"kafka: {exc}") from exc

    def describe(self) -> str:
        return f"bootstrap {self.bootstrap}"


@contextlib.contextmanager
def _quiet_aiokafka() -> Iterator[None]:
    """Silence aiokafka's connection-error logs while probing a broker that may still be booting."""
    logger = logging.getLogger("aiokafka")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)
