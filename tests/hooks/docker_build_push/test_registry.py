"""The registry side of the Docker build + push hook: credentials from the environment, names and errors.

Manifest reads, checks and tag PUTs against a real registry are in ``test_hook.py`` (Docker engine).
"""

from __future__ import annotations

import pytest

from runway_ext.core.errors import HookError
from runway_ext.core.log import redact
from runway_ext.hooks.docker_build_push.registry import Credentials, RegistryClient, registry_credentials, registry_holds


def test_credentials_need_both_variables_and_the_password_is_redacted() -> None:
    assert registry_credentials({}) is None
    assert registry_credentials({"RUNWAY_EXT_REGISTRY_USERNAME": "deployer"}) is None
    assert registry_credentials({"RUNWAY_EXT_REGISTRY_PASSWORD": "pw-only-0001"}) is None
    credentials = registry_credentials({"RUNWAY_EXT_REGISTRY_USERNAME": "deployer", "RUNWAY_EXT_REGISTRY_PASSWORD": "pw-registry-0002"})
    assert credentials == Credentials(username="deployer", password="pw-registry-0002")
    assert redact("login with pw-registry-0002") == "login with ***"


def test_loopback_registries_speak_http_others_https_and_prefixes_belong_to_repositories() -> None:
    local = RegistryClient("127.0.0.1:5000")
    assert local.base_url == "http://127.0.0.1:5000" and local.repository_path("app") == "app"
    remote = RegistryClient("registry.example.com/team")
    assert remote.base_url == "https://registry.example.com" and remote.repository_path("app") == "team/app"


def test_an_unreachable_registry_is_one_hook_error_line() -> None:
    client = RegistryClient("127.0.0.1:9", timeout=5)  # nothing listens there
    with pytest.raises(HookError, match=r"^registry: registry http://127.0.0.1:9 unreachable: ") as caught:
        registry_holds(client, "app", "sha256:" + "0" * 64)
    assert len(str(caught.value).splitlines()) == 1
