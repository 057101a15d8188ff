"""The local edge: every distribution in the stand-in served on its own 127.0.0.1 port, kept in step with moto.

:class:`EdgeFleet` polls the stand-in's CloudFront API (every :data:`POLL_SECONDS`): a new distribution gets an
:class:`~runway_ext.local.edge_server.EdgeSite` on a free port; a changed config (ETag) or LIVE function code
is re-read (the cache is kept, as on AWS), with the viewer-response function and the key value store each
function is associated with; a deleted distribution stops being served; a ``Completed``
invalidation clears the paths it names from that site's cache, once. What a distribution's config has that the
edge does not emulate is logged once per distribution (and kept in :attr:`EdgeFleet.notices`).

The cache and response-headers policies have no moto API: the edge reads them from the records local mode's
CloudFormation types keep in this process (the fleet runs in the process that holds the stand-in).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from runway_ext.core.log import get_logger
from runway_ext.local.edge_config import plan_edge
from runway_ext.local.edge_functions import FunctionRunner
from runway_ext.local.edge_server import EdgeHttpServer, EdgeSite, OriginResponse
from runway_ext.local.moto_server import DUMMY_CREDENTIALS
from runway_ext.static_site.association import store_of

LOG = get_logger("runway_ext.local.edge")
POLL_SECONDS = 0.5


class S3Origin:
    """The stand-in's S3, read the way the edge reads an origin."""

    def __init__(self, client: Any) -> None:
        """Use ``client`` (a boto3 S3 client on the stand-in, path-style)."""
        self.client = client

    def get_object(self, bucket: str, key: str) -> OriginResponse | None:
        """The object with the headers CloudFront passes on, or ``None`` when the key (or bucket) is missing."""
        from botocore.exceptions import ClientError

        try:
            found = self.client.get_object(Bucket=bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "NoSuchBucket", "404"):
                return None
            raise
        headers = [
            (name, found[field_name])
            for name, field_name in (
                ("Content-Type", "ContentType"),
                ("Cache-Control", "CacheControl"),
                ("ETag", "ETag"),
                ("Content-Encoding", "ContentEncoding"),
                ("Content-Language", "ContentLanguage"),
                ("Expires", "ExpiresString"),
            )
            if found.get(field_name)
        ]
        if found.get("LastModified"):
            headers.append(("Last-Modified", found["LastModified"].strftime("%a, %d %b %Y %H:%M:%S GMT")))
        return OriginResponse(200, headers, found["Body"].read())

    def access(self, bucket: str) -> tuple[str | None, bool]:
        """The bucket policy (``None`` without one) and whether public reads are blocked."""
        from botocore.exceptions import ClientError

        from runway_ext.local.moto_cloudformation import FULL_BUCKET_POLICIES

        try:
            policy: str | None = self.client.get_bucket_policy(Bucket=bucket)["Policy"]
        except ClientError:
            policy = None
        full = FULL_BUCKET_POLICIES.get(bucket)
        if policy is not None and full is not None and _same_grants(policy, full):
            policy = json.dumps(full)  # what the stack wrote, with the statements moto cannot evaluate
        try:
            block = self.client.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
            blocked = bool(block.get("RestrictPublicBuckets") or block.get("BlockPublicPolicy"))
        except ClientError:
            blocked = False
        return policy, blocked


def _same_grants(stored: str, full: dict[str, Any]) -> bool:
    """Whether moto's stored policy is still the stack's (minus what moto cannot evaluate), not one put since."""
    from runway_ext.local.moto_cloudformation import without_transport_conditions

    return bool(json.loads(stored) == without_transport_conditions(full))


@dataclass(frozen=True)
class LiveFunction:
    """A function's LIVE code, its ETag and the ARN of its associated key value store (CloudFront allows one)."""

    code: str | None = None
    etag: str | None = None
    key_value_store: str | None = None


@dataclass
class _Served:
    server: EdgeHttpServer
    etag: str
    function_etag: str | None = None
    applied_invalidations: set[str] = field(default_factory=set)
    shown_notices: set[str] = field(default_factory=set)


def recorded_policies() -> dict[str, dict[str, Any]]:
    """Cache/response-headers policies created by local mode's CloudFormation types in this process, by id."""
    from runway_ext.local.moto_cloudformation import _RecordedPolicy

    return dict(_RecordedPolicy.RECORDED)


class EdgeFleet:
    """Serve every distribution of the stand-in at ``endpoint`` until :meth:`stop`."""

    def __init__(
        self, endpoint: str, *, poll_seconds: float = POLL_SECONDS, on_change: Callable[[dict[str, str]], None] | None = None
    ) -> None:
        """Prepare; :meth:`start` begins polling. ``on_change`` gets {distribution id: URL} whenever that changes."""
        import boto3
        from botocore.config import Config

        session = boto3.Session(
            aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=DUMMY_CREDENTIALS["AWS_DEFAULT_REGION"],
        )
        config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2}, proxies={})
        self.cloudfront = session.client("cloudfront", endpoint_url=endpoint, config=config)
        self.origin = S3Origin(session.client("s3", endpoint_url=endpoint, config=config))
        self.runner = FunctionRunner(kvs_endpoint=endpoint)
        self.poll_seconds = poll_seconds
        self.on_change = on_change
        self.notices: dict[str, list[str]] = {}
        self._served: dict[str, _Served] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="edge-fleet", daemon=True)
        self._lock = threading.Lock()

    def sites(self) -> dict[str, str]:
        """{distribution id: URL} of what is served now."""
        with self._lock:
            return {distribution_id: served.server.url for distribution_id, served in self._served.items()}

    def start(self) -> EdgeFleet:
        """Serve what exists now, then keep polling in a thread."""
        self.poll_once()
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop polling, every site's server and the function runner."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
        with self._lock:
            for served in self._served.values():
                served.server.stop()
            self._served.clear()
        self.runner.stop()

    def _loop(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.poll_once()
            except Exception as error:  # noqa: BLE001 - the edge keeps serving through a failed poll; the error is logged
                LOG.warning("edge: could not read the stand-in's distributions: %s", error)

    def poll_once(self) -> None:
        """Bring the served sites in step with the stand-in's distributions and invalidations."""
        summaries: list[dict[str, Any]] = []
        for page in self.cloudfront.get_paginator("list_distributions").paginate():
            summaries.extend(page.get("DistributionList", {}).get("Items") or [])
        live = {summary["Id"]: summary for summary in summaries}
        changed = False
        with self._lock:
            for distribution_id in list(self._served):
                if distribution_id not in live:
                    self._served.pop(distribution_id).server.stop()
                    self.notices.pop(distribution_id, None)
                    LOG.info("edge: distribution %s is gone; no longer served", distribution_id)
                    changed = True
        for distribution_id, summary in live.items():
            changed |= self._refresh(distribution_id, summary)
            changed |= self._apply_invalidations(distribution_id)
        if changed and self.on_change is not None:
            self.on_change(self.sites())

    def _refresh(self, distribution_id: str, summary: dict[str, Any]) -> bool:
        """Serve a new distribution or re-read a changed one; True when anything changed."""
        found = self.cloudfront.get_distribution_config(Id=distribution_id)
        served = self._served.get(distribution_id)
        config = plan_edge(distribution_id, summary.get("DomainName", ""), found["DistributionConfig"], recorded_policies())
        request_function = self._function_code(config.viewer_request_function)
        response_function = self._function_code(config.viewer_response_function)
        function_etag = f"{request_function.etag}/{response_function.etag}"
        if served is not None and served.etag == found["ETag"] and served.function_etag == function_etag:
            return False
        if served is None:
            site = EdgeSite(config, self.origin, self.runner)
            served = _Served(EdgeHttpServer(site).start(), found["ETag"], function_etag)
            with self._lock:
                self._served[distribution_id] = served
            LOG.info("edge: distribution %s (%s) served at %s", distribution_id, summary.get("Comment") or "-", served.server.url)
        site = served.server.site
        site.config = config
        site.function_code, site.function_store = request_function.code, request_function.key_value_store
        site.response_function_code, site.response_function_store = response_function.code, response_function.key_value_store
        served.etag, served.function_etag = found["ETag"], function_etag
        self.notices[distribution_id] = list(config.not_emulated)
        for notice in config.not_emulated:
            if notice not in served.shown_notices:
                served.shown_notices.add(notice)
                LOG.warning("edge %s: not emulated: %s", distribution_id, notice)
        return True

    def _function_code(self, arn: str | None) -> LiveFunction:
        """The LIVE code of the function ``arn`` names, its ETag and associated store (all None when not published)."""
        if not arn:
            return LiveFunction()
        name = arn.rsplit("function/", 1)[-1]
        try:
            described = self.cloudfront.describe_function(Name=name, Stage="LIVE")
            if described["FunctionSummary"]["FunctionMetadata"].get("Stage") != "LIVE":
                return LiveFunction()
            code = self.cloudfront.get_function(Name=name, Stage="LIVE")["FunctionCode"].read().decode("utf-8")
        except self.cloudfront.exceptions.NoSuchFunctionExists:
            return LiveFunction()
        return LiveFunction(code, described.get("ETag"), store_of(described))

    def applied_invalidations(self) -> dict[str, list[str]]:
        """{distribution id: ids of the completed invalidations applied to its cache}."""
        with self._lock:
            return {distribution_id: sorted(served.applied_invalidations) for distribution_id, served in self._served.items()}

    def _apply_invalidations(self, distribution_id: str) -> bool:
        """Clear what newly completed invalidations name; True when one was applied."""
        served = self._served.get(distribution_id)
        if served is None:
            return False
        applied = False
        for page in self.cloudfront.get_paginator("list_invalidations").paginate(DistributionId=distribution_id):
            for item in page.get("InvalidationList", {}).get("Items") or []:
                if item["Id"] in served.applied_invalidations or item["Status"].lower() != "completed":
                    continue
                paths = self.cloudfront.get_invalidation(DistributionId=distribution_id, Id=item["Id"])["Invalidation"]["InvalidationBatch"]
                dropped = served.server.site.cache.invalidate(paths["Paths"].get("Items") or [])
                served.applied_invalidations.add(item["Id"])
                applied = True
                LOG.info("edge %s: invalidation %s completed: %d cached object(s) cleared", distribution_id, item["Id"], dropped)
        return applied
