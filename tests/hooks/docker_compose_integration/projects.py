"""Compose projects written to disk for the tests (a two-service project built from the local base image), and stand-in clients.

Both services build from the locally imported busybox base image (passed as a build arg interpolated
from the env file), with ``pull_policy: never``/``build`` and ``init: true``: nothing is ever pulled.
"""

from __future__ import annotations

import uuid
from pathlib import Path

DOCKERFILE = "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN echo built > /built\n"

COMPOSE_FILE = """\
services:
  api-public:
    build:
      context: ./app
      args:
        BASE_IMAGE: ${BASE_IMAGE:?set BASE_IMAGE in the env file}
    pull_policy: never
    init: true
    command: ["sh", "-c", "date >> /data/starts && touch /tmp/ready && echo api listening && exec sleep 3600"]
    volumes:
      - data:/data
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/ready"]
      interval: 1s
      timeout: 2s
      retries: 30
  worker:
    build:
      context: ./app
      args:
        BASE_IMAGE: ${BASE_IMAGE:?set BASE_IMAGE in the env file}
    pull_policy: build
    init: true
    command: ["sh", "-c", "echo worker up && exec sleep 3600"]
volumes:
  data: {}
"""

NEVER_HEALTHY = """\
services:
  stuck:
    image: ${BASE_IMAGE}
    pull_policy: never
    init: true
    command: ["sh", "-c", "echo stuck step 1; echo stuck waiting for a database >&2; exec sleep 3600"]
    healthcheck:
      test: ["CMD", "test", "-f", "/tmp/never"]
      interval: 1s
      timeout: 2s
      retries: 3
      start_period: 600s
  crashes:
    image: ${BASE_IMAGE}
    pull_policy: never
    command: ["sh", "-c", "echo config missing; exit 3"]
  fine:
    image: ${BASE_IMAGE}
    pull_policy: never
    init: true
    command: ["sleep", "3600"]
"""


def write_project(parent: Path, base_image: str, *, compose: str = COMPOSE_FILE, folder: str | None = None) -> Path:
    """A compose project folder (unique name, so tests never share a compose project)."""
    project = parent / (folder or f"Shop App_{uuid.uuid4().hex[:8]}")
    (project / "app").mkdir(parents=True)
    (project / "app" / "Dockerfile").write_text(DOCKERFILE)
    (project / "docker-compose.yml").write_text(compose)
    (project / ".env.compose").write_text(f"BASE_IMAGE={base_image}\n")
    return project


def stand_in_docker(folder: Path, script: str) -> Path:
    """A ``docker`` shell script in ``folder/bin``; returns the bin folder."""
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "docker"
    fake.write_text("#!/bin/sh\n" + script)
    fake.chmod(0o755)
    return bin_dir
