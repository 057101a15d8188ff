"""A static-site CDN: a private S3 bucket served by CloudFront through Origin Access Control.

Use it in a CFNgin config::

    stacks:
      - name: site
        class_path: runway_ext.blueprints.cdn.StaticSiteCdn
        variables:
          Aliases: [www.example.com]
          AcmCertificateArn: arn:aws:acm:us-east-1:111122223333:certificate/abcd-1234
          SpaFallback: false

What it builds: a bucket with every public access blocked, SSE-S3 encryption, bucket-owner-enforced
ownership and versioning (old versions expire after 30 days); an Origin Access Control (SigV4,
always sign) and a bucket policy that lets only this distribution read (``AWS:SourceArn``), never the hook's own files under ``.runway-ext/``, and
refuses plain HTTP; a distribution with the managed ``CachingOptimized`` cache policy, a
security-headers response policy, HTTP/2 and HTTP/3, IPv6, compression and ``index.html`` as
default root object; with ``AtomicReleases`` (the default) a CloudFront KeyValueStore holding the live
release pointer, a viewer-request CloudFront Function (``cloudfront-js-2.0``, associated with the store)
that serves each request from the live release's objects (or the bucket root while there is no valid
pointer) and a viewer-response function adding the ``x-runway-ext-release`` header and the tab-pinning
cookie (with ``PreviewDomain``, ``NAME.PreviewDomain`` is served from the preview pointer ``preview/NAME``,
through the wildcard alias ``*.PreviewDomain``); without it, optionally a viewer-request CloudFront Function that serves ``/docs/`` and
``/docs`` from ``/docs/index.html`` (a Next.js static export with ``trailingSlash: true``); an SPA
fallback, a custom 404 page, aliases with an ACM certificate (viewers then need TLS 1.2 or newer),
S3 server access logs of the site bucket, CloudFront access logs and a WAF web ACL. Outputs:
BucketName, BucketArn, DistributionId, DistributionDomainName, DistributionArn, and with
``AtomicReleases`` KeyValueStoreArn.

Cost of ``AtomicReleases``: each viewer request runs two functions (viewer-request always, viewer-response
on answers below 400) and reads the store once; the in-place layout runs one function and reads nothing.

Security settings that cost nothing are on by default; those that cost money (logs, WAF) or need
something only the user has (a domain and its certificate) are one variable each: see
``docs/blueprints/cdn.md`` for which scanner check each one satisfies.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar

from runway.cfngin.blueprints.base import Blueprint
from troposphere import GetAtt, Ref, Select, Split, StackId, StackName, Sub, cloudfront, s3

from runway_ext.core.names import bucket_name_problem
from runway_ext.static_site.layout import STATE_FOLDER

CACHING_OPTIMIZED_POLICY_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6"
"""AWS managed cache policy ``Managed-CachingOptimized``."""

TOOL_PREFIX = STATE_FOLDER.rstrip("/")
"""Where the static-site hook keeps its manifest and lock in the bucket (at the site prefix's root): never
readable through the distribution."""

PRICE_CLASSES = ["PriceClass_100", "PriceClass_200", "PriceClass_All"]
ORIGIN_ID = "site-bucket"
ORIGIN_PATH = ""
"""The distribution serves the bucket root."""

DIRECTORY_INDEX_FUNCTION = """\
function handler(event) {
    var request = event.request;
    var uri = request.uri;
    if (uri.endsWith('/')) {
        request.uri = uri + 'index.html';
    } else if (uri.lastIndexOf('.') < uri.lastIndexOf('/')) {
        request.uri = uri + '/index.html';
    }
    return request;
}
"""
"""Viewer-request code: ``/a/`` → ``/a/index.html``; ``/a`` (last segment without a dot) → ``/a/index.html``."""

RELEASES_FOLDER = ".runway-ext-releases"
"""Where atomic releases keep their objects, at the site prefix's root: ``{rid}/{path}`` and ``shared/{path}``."""
RELEASE_HEADER = "x-runway-ext-release"
"""Request header the viewer-request function sets (the chosen release) and response header viewers get."""
RELEASE_COOKIE = "rwx-release"
"""Cookie pinning a tab to the release its page came from (skew protection)."""
FUNCTION_CODE_MAX_BYTES = 10_240
"""CloudFront's limit on a function's code."""

_RELEASE_ROUTER_TEMPLATE = """\
import cf from 'cloudfront';

var kvs = cf.kvs();
var POINTER_KEY = __POINTER_KEY__;
var PREVIEW_KEY = __PREVIEW_KEY__;
var PREVIEW_DOMAIN = __PREVIEW_DOMAIN__;
var PREVIEW_NAME = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;
var RESERVED = /^(r[0-9]+|live|shared|preview)$|^..--/;
var DIRECTORY_INDEX = __DIRECTORY_INDEX__;
var RELEASES = '/__RELEASES__/';
var HEADER = '__HEADER__';
var COOKIE = '__COOKIE__';
var RELEASE_ID = /^r[1-9][0-9]*$/;

function isRelease(value) {
    return typeof value === 'string' && RELEASE_ID.test(value);
}

function isSharedPrefix(value) {
    if (typeof value !== 'string' || value.length < 2 || value.charAt(0) === '/' || !value.endsWith('/')) {
        return false;
    }
    if (/[\\s?#*\\\\]/.test(value)) {
        return false;
    }
    var segments = value.slice(0, -1).split('/');
    for (var i = 0; i < segments.length; i++) {
        if (segments[i] === '' || segments[i] === '.' || segments[i] === '..') {
            return false;
        }
    }
    return true;
}

function parsePointer(text) {
    var value;
    try {
        value = JSON.parse(text);
    } catch (e) {
        return null;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value) || value.v !== 1 || !isRelease(value.r)) {
        return null;
    }
    var shared = value.s === undefined ? [] : value.s;
    var kept = value.k === undefined ? [] : value.k;
    if (!Array.isArray(shared) || !Array.isArray(kept)) {
        return null;
    }
    for (var i = 0; i < shared.length; i++) {
        if (!isSharedPrefix(shared[i])) {
            return null;
        }
    }
    for (var j = 0; j < kept.length; j++) {
        if (!isRelease(kept[j])) {
            return null;
        }
    }
    return { r: value.r, s: shared, k: kept };
}

function isNavigation(headers) {
    var dest = headers['sec-fetch-dest'];
    if (dest) {
        return dest.value === 'document';
    }
    var accept = headers['accept'];
    return !!accept && accept.value.indexOf('text/html') !== -1;
}

function indexed(uri) {
    if (uri === '/' || (DIRECTORY_INDEX && uri.endsWith('/'))) {
        return uri + 'index.html';
    }
    if (DIRECTORY_INDEX && uri.lastIndexOf('.') < uri.lastIndexOf('/')) {
        return uri + '/index.html';
    }
    return uri;
}

function previewOf(headers) {
    var host = headers['host'];
    if (!PREVIEW_DOMAIN || !host) {
        return null;
    }
    var name = host.value.toLowerCase().split(':')[0].replace(/\\.+$/, '');
    if (name === PREVIEW_DOMAIN) {
        return '';
    }
    return name.endsWith('.' + PREVIEW_DOMAIN) ? name.slice(0, -PREVIEW_DOMAIN.length - 1) : null;
}

function page(status, title, text) {
    return {
        statusCode: status,
        headers: { 'content-type': { value: 'text/html; charset=utf-8' }, 'cache-control': { value: 'no-store' } },
        body: '<!doctype html><meta charset="utf-8"><title>' + title + '</title><h1>' + title + '</h1><p>' + text + '</p>'
    };
}

async function previewPointer(name) {
    var where = name + '.' + PREVIEW_DOMAIN;
    if (!PREVIEW_NAME.test(name) || RESERVED.test(name)) {
        return page(404, 'No such preview', 'This address names no preview: a preview is one DNS label (a-z, 0-9, -, at most 40 characters, not a reserved word) before ' + PREVIEW_DOMAIN + '.');
    }
    var text;
    try {
        text = await kvs.get(PREVIEW_KEY + name);
    } catch (e) {
        var known = null;
        try {
            known = await kvs.exists(PREVIEW_KEY + name);
        } catch (e2) {
            known = null;
        }
        if (known === false) {
            return page(404, 'No such preview', 'There is no preview ' + where + ': it was never deployed, or it was deleted.');
        }
        return page(503, 'Preview unavailable', 'The release of preview ' + where + ' cannot be read right now; try again.');
    }
    var pointer = parsePointer(text);
    if (pointer === null) {
        console.log('preview pointer ' + PREVIEW_KEY + name + ' is not a valid v1 value');
        return page(503, 'Preview unavailable', 'The release of preview ' + where + ' is not valid; deploy the preview again.');
    }
    return pointer;
}

async function handler(event) {
    var request = event.request;
    var uri = indexed(request.uri);
    delete request.headers[HEADER];
    var pointer = null;
    var preview = previewOf(request.headers);
    if (preview !== null) {
        pointer = await previewPointer(preview);
        if (pointer.statusCode) {
            return pointer;
        }
    } else {
        try {
            pointer = parsePointer(await kvs.get(POINTER_KEY));
            if (pointer === null) {
                console.log('release pointer ' + POINTER_KEY + ' is not a valid v1 value: serving the root');
            }
        } catch (e) {
            pointer = null;
        }
    }
    if (pointer === null) {
        request.uri = uri;
        return request;
    }
    var release = pointer.r;
    var pin = (request.cookies || {})[COOKIE];
    if (pin && !isNavigation(request.headers) && (pin.value === pointer.r || pointer.k.indexOf(pin.value) !== -1)) {
        release = pin.value;
    }
    var path = uri.slice(1);
    var folder = release + '/';
    for (var i = 0; i < pointer.s.length; i++) {
        if (path.startsWith(pointer.s[i])) {
            folder = 'shared/';
            break;
        }
    }
    request.uri = RELEASES + folder + path;
    request.headers[HEADER] = { value: release };
    return request;
}
"""

RELEASE_HEADERS_FUNCTION = (
    """\
var HEADER = '__HEADER__';
var COOKIE = '__COOKIE__';
var RELEASE_ID = /^r[1-9][0-9]*$/;
var SHARED = '/__RELEASES__/shared/';

function isNavigation(headers) {
    var dest = headers['sec-fetch-dest'];
    if (dest) {
        return dest.value === 'document';
    }
    var accept = headers['accept'];
    return !!accept && accept.value.indexOf('text/html') !== -1;
}

function handler(event) {
    var response = event.response;
    var chosen = event.request.headers[HEADER];
    if (!chosen || !RELEASE_ID.test(chosen.value) || response.statusCode >= 400) {
        return response;
    }
    response.headers[HEADER] = { value: chosen.value };
    if (event.request.uri.indexOf(SHARED) !== 0) {
        var vary = response.headers['vary'];
        if (!vary) {
            response.headers['vary'] = { value: 'Cookie' };
        } else if (!/(^|,)\\s*cookie\\s*(,|$)/i.test(vary.value)) {
            vary.value = vary.value + ', Cookie';
        }
    }
    if (isNavigation(event.request.headers)) {
        response.cookies = response.cookies || {};
        response.cookies[COOKIE] = { value: chosen.value, attributes: 'Path=/; SameSite=Lax' };
    }
    return response;
}
""".replace("__HEADER__", RELEASE_HEADER)
    .replace("__COOKIE__", RELEASE_COOKIE)
    .replace("__RELEASES__", RELEASES_FOLDER)
)
"""Viewer-response code with atomic releases: the release the viewer-request function chose (its request header
in the viewer-response event's ``request``, the request as the viewer-request function returned it) becomes the
``x-runway-ext-release`` response header of every 2xx/3xx answer, and on a navigation the ``rwx-release``
cookie pinning the tab; a release's own (not shared) objects also get ``Vary: Cookie``, so a browser does not
reuse a file it cached for one release (same URL, other bytes) once the pin names another. Without that header (the root was served, or the header did not reach this event) it
adds nothing: no header, no pin, so the tab's next assets follow the live release, never a wrong one."""


def site_prefix_of(origin_path: str) -> str:
    """The site prefix ``P`` for a distribution origin path (``""`` → ``""``, ``/site`` → ``site/``)."""
    stripped = origin_path.strip("/")
    return f"{stripped}/" if stripped else ""


SITE_PREFIX = site_prefix_of(ORIGIN_PATH)
"""The site prefix the function's pointer key is named after (``{P}live``)."""


def release_router_function(site_prefix: str = "", directory_index: bool = True, preview_domain: str = "") -> str:
    """Viewer-request code with atomic releases, for the site at ``site_prefix`` (its origin path's prefix).

    1. ``/`` → ``/index.html``; with ``directory_index`` also ``/a/`` and ``/a`` → ``/a/index.html``.
    2. Read the pointer ``{P}live`` from the associated key value store. No key (never switched), a store that
       cannot be read, or a value that is not a valid v1 pointer: the rewritten URI is served from the root
       (the in-place layout, the fallback release), never a mix.
    3. Navigations (``sec-fetch-dest: document``; without that header, an ``accept`` naming ``text/html``) get
       release ``r``; other requests whose ``rwx-release`` cookie names ``r`` or a release in ``k`` get that
       one; the rest get ``r``.
    4. A path under a shared prefix (``s``) → ``/.runway-ext-releases/shared/{path}``, any other →
       ``/.runway-ext-releases/{rid}/{path}``: the cache key is that URI, so a switch needs no invalidation.
    5. The chosen release goes in the ``x-runway-ext-release`` request header (one sent by the viewer is
       dropped first) for the viewer-response function.

    With ``preview_domain`` (e.g. ``preview.example.com``), a request whose Host, lower-cased and without a port
    or trailing dots, is ``NAME.preview_domain`` reads the preview pointer ``{P}preview/NAME`` instead of the
    live one and is served from that release by the same rules (its pins checked against that pointer's
    ``r`` and ``k``: the pin cookie is per host). A preview never falls back to the root: a Host that is the
    preview domain itself, has two labels before it, or a NAME that is not a preview name
    (:func:`runway_ext.static_site.kvs.preview_name_problem`) gets a generated 404 page without a store read;
    a preview with no pointer (never deployed, or deleted) a 404 page naming it; a store that cannot be read
    or a value that is not a valid v1 pointer a 503 page. Those pages are ``no-store`` and never cached by
    CloudFront (a generated response). Any other Host is the live site, as without previews.
    """
    return (
        _RELEASE_ROUTER_TEMPLATE.replace("__POINTER_KEY__", json.dumps(f"{site_prefix}live"))
        .replace("__PREVIEW_KEY__", json.dumps(f"{site_prefix}preview/"))
        .replace("__PREVIEW_DOMAIN__", json.dumps(preview_domain))
        .replace("__DIRECTORY_INDEX__", "true" if directory_index else "false")
        .replace("__RELEASES__", RELEASES_FOLDER)
        .replace("__HEADER__", RELEASE_HEADER)
        .replace("__COOKIE__", RELEASE_COOKIE)
    )


_ACM_ARN = re.compile(r"^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate/[A-Za-z0-9-]+$")
_WAFV2_ARN = re.compile(r"^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global/webacl/.+$")
VIEWER_MINIMUM_PROTOCOL_VERSION = "TLSv1.2_2021"
"""Security policy of the viewer certificate whenever ``AcmCertificateArn`` is given: TLS 1.2 or newer only."""


def _bucket_name(value: str) -> str:
    problem = bucket_name_problem(value) if value else None
    if problem:
        raise ValueError(problem)
    return value


def _acm_certificate(value: str) -> str:
    if value and not _ACM_ARN.match(value):
        raise ValueError(f"{value!r} is not an ACM certificate ARN in us-east-1 (CloudFront only uses us-east-1 certificates)")
    return value


def _web_acl(value: str) -> str:
    if value.startswith("arn:") and not _WAFV2_ARN.match(value):
        raise ValueError(f"{value!r} is not a WAFv2 web ACL ARN with scope CLOUDFRONT (arn:aws:wafv2:us-east-1:ACCOUNT:global/webacl/...)")
    return value


def _page_path(value: str) -> str:
    if value and not value.startswith("/"):
        raise ValueError(f"{value!r} must be a path starting with '/', e.g. /404.html")
    return value


def _aliases(value: list[Any]) -> list[Any]:
    for alias in value:
        if not isinstance(alias, str) or not alias or " " in alias:
            raise ValueError(f"{alias!r} is not a domain name")
    return value


_DOMAIN_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def _preview_domain(value: str) -> str:
    labels = value.split(".") if value else []
    if value and (len(labels) < 2 or len(value) > 200 or not all(_DOMAIN_LABEL.match(label) for label in labels)):
        raise ValueError(
            f"{value!r} is not a domain name for previews (lowercase labels separated by dots, no wildcard, no trailing dot),"
            " e.g. preview.example.com"
        )
    return value


def preview_alias(preview_domain: str) -> str:
    """The wildcard alias serving a preview domain's one-label subdomains (``preview.example.com`` → ``*.preview.example.com``)."""
    return f"*.{preview_domain}"


def logging_bucket_domain(value: str) -> str:
    """The bucket domain CloudFront logging wants (``name`` → ``name.s3.amazonaws.com``)."""
    return value if ".s3." in value or value.endswith(".s3.amazonaws.com") else f"{value}.s3.amazonaws.com"


class StaticSiteCdn(Blueprint):
    """Private S3 bucket + CloudFront (Origin Access Control) for a static site."""

    VARIABLES: ClassVar[dict[str, dict[str, Any]]] = {
        "BucketName": {
            "type": str,
            "default": "",
            "validator": _bucket_name,
            "description": "Name of the site bucket; empty lets CloudFormation generate one.",
        },
        "Versioning": {
            "type": bool,
            "default": True,
            "description": "Keep old object versions (a build can be rolled back by copying them back); false turns versioning off.",
        },
        "NoncurrentVersionExpirationDays": {
            "type": int,
            "default": 30,
            "description": "With Versioning: delete old versions after this many days (0 keeps them forever).",
        },
        "ServerAccessLogBucket": {
            "type": str,
            "default": "",
            "validator": _bucket_name,
            "description": "Bucket (name, same account and region) receiving S3 server access logs of the site bucket. Empty: no logs.",
        },
        "ServerAccessLogPrefix": {
            "type": str,
            "default": "",
            "description": "With ServerAccessLogBucket: key prefix of the server access logs, e.g. site-bucket/.",
        },
        "AtomicReleases": {
            "type": bool,
            "default": True,
            "description": (
                "Serve releases atomically: a CloudFront KeyValueStore holds the live release pointer, a viewer-request"
                " function (which also does the directory-index rewrite) maps every request to that release's objects and"
                " a viewer-response function pins the tab to it. Cost per viewer request: two function invocations"
                " (viewer-request, and viewer-response on answers below 400) and one KeyValueStore read, instead of one"
                " invocation and no read. false keeps the in-place layout (objects overwritten at the bucket root)."
            ),
        },
        "DirectoryIndexRewrite": {
            "type": bool,
            "default": True,
            "description": "Attach a viewer-request CloudFront Function serving /dir/ and /dir from /dir/index.html.",
        },
        "SpaFallback": {
            "type": bool,
            "default": False,
            "description": "Answer 403/404 from the bucket with /index.html and status 200 (single-page apps).",
        },
        "NotFoundPage": {
            "type": str,
            "default": "",
            "validator": _page_path,
            "description": "Page served with status 404 for missing objects, e.g. /404.html (not with SpaFallback).",
        },
        "Aliases": {
            "type": list,
            "default": [],
            "validator": _aliases,
            "description": "Domain names (CNAMEs) of the distribution; needs AcmCertificateArn.",
        },
        "AcmCertificateArn": {
            "type": str,
            "default": "",
            "validator": _acm_certificate,
            "description": "ACM certificate (us-east-1) covering the aliases; empty uses the *.cloudfront.net certificate.",
        },
        "PreviewDomain": {
            "type": str,
            "default": "",
            "validator": _preview_domain,
            "description": (
                "Domain whose one-label subdomains are previews, e.g. preview.example.com: *.PreviewDomain is added to the"
                " aliases (AcmCertificateArn must cover it; point the DNS wildcard at the distribution), and the viewer-request"
                " function serves NAME.PreviewDomain from the preview pointer {P}preview/NAME, by rewriting the URI (each"
                " release has its own cache keys). An unknown or deleted preview, or a Host that is not a preview name,"
                " gets a 404 page saying so, never the live site. Needs AtomicReleases. Empty: no previews."
            ),
        },
        "PriceClass": {
            "type": str,
            "default": "PriceClass_100",
            "allowed_values": PRICE_CLASSES,
            "description": "Edge locations used: PriceClass_100 (NA, Europe), PriceClass_200, PriceClass_All.",
        },
        "LoggingBucket": {
            "type": str,
            "default": "",
            "description": "Bucket (name or bucket domain) for CloudFront standard access logs; needs ACLs enabled. Empty: no logs.",
        },
        "LoggingPrefix": {
            "type": str,
            "default": "",
            "description": "Key prefix of the access logs, e.g. cdn/.",
        },
        "WebAclArn": {
            "type": str,
            "default": "",
            "validator": _web_acl,
            "description": "WAFv2 web ACL ARN (scope CLOUDFRONT, us-east-1) to protect the distribution.",
        },
        "ContentSecurityPolicy": {
            "type": str,
            "default": "",
            "description": "Content-Security-Policy header value added to every response; empty adds none.",
        },
        "Comment": {
            "type": str,
            "default": "",
            "description": "Comment of the distribution (shown in the console); defaults to the stack name.",
        },
    }

    def create_template(self) -> None:
        """Add the bucket, access control, function, policies, distribution and outputs."""
        variables = self.variables
        self._check(variables)
        template = self.template
        template.set_version("2010-09-09")
        template.set_description("Static site: private S3 bucket served by CloudFront (Origin Access Control)")

        bucket = template.add_resource(self._bucket(variables))
        access_control = template.add_resource(
            cloudfront.OriginAccessControl(
                "OriginAccessControl",
                OriginAccessControlConfig=cloudfront.OriginAccessControlConfig(
                    Name=_unique_name("site-oac-"),
                    Description=Sub("Read access of ${AWS::StackName} to its site bucket"),
                    OriginAccessControlOriginType="s3",
                    SigningBehavior="always",
                    SigningProtocol="sigv4",
                ),
            )
        )
        headers_policy = template.add_resource(self._response_headers_policy(variables))
        store: cloudfront.KeyValueStore | None = None
        associations: list[cloudfront.FunctionAssociation] = []
        if variables["AtomicReleases"]:
            store = template.add_resource(self._release_store())
            router = template.add_resource(self._release_router(store, variables["DirectoryIndexRewrite"], variables["PreviewDomain"]))
            headers = template.add_resource(self._release_headers())
            associations = [
                cloudfront.FunctionAssociation(EventType="viewer-request", FunctionARN=GetAtt(router, "FunctionARN")),
                cloudfront.FunctionAssociation(EventType="viewer-response", FunctionARN=GetAtt(headers, "FunctionARN")),
            ]
        elif variables["DirectoryIndexRewrite"]:
            function = template.add_resource(self._index_function())
            associations = [cloudfront.FunctionAssociation(EventType="viewer-request", FunctionARN=GetAtt(function, "FunctionARN"))]
        distribution = template.add_resource(self._distribution(variables, bucket, access_control, headers_policy, associations))
        distribution_arn = Sub("arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Distribution}")
        template.add_resource(self._bucket_policy(bucket, distribution_arn))

        self.add_output("BucketName", Ref(bucket))
        self.add_output("BucketArn", GetAtt(bucket, "Arn"))
        self.add_output("DistributionId", Ref(distribution))
        self.add_output("DistributionDomainName", GetAtt(distribution, "DomainName"))
        self.add_output("DistributionArn", distribution_arn)
        if store is not None:
            self.add_output("KeyValueStoreArn", GetAtt(store, "Arn"))

    @staticmethod
    def _check(variables: dict[str, Any]) -> None:
        """Checks that involve several variables."""
        if variables["Aliases"] and not variables["AcmCertificateArn"]:
            raise ValueError("Aliases need AcmCertificateArn (a us-east-1 ACM certificate covering them)")
        preview_domain = variables["PreviewDomain"]
        if variables["AcmCertificateArn"] and not variables["Aliases"] and not preview_domain:
            raise ValueError("AcmCertificateArn is only used with Aliases or PreviewDomain; add the domain names it covers")
        if preview_domain and not variables["AcmCertificateArn"]:
            raise ValueError(
                f"PreviewDomain needs AcmCertificateArn (a us-east-1 ACM certificate covering {preview_alias(preview_domain)})"
            )
        if preview_domain and not variables["AtomicReleases"]:
            raise ValueError("PreviewDomain needs AtomicReleases (a preview is a release the function routes to)")
        for alias in variables["Aliases"] if preview_domain else ():
            if str(alias).lower().rstrip(".").endswith("." + preview_domain) or str(alias).lower().rstrip(".") == preview_domain:
                raise ValueError(f"alias {alias!r} is under PreviewDomain {preview_domain!r}: the function would take it for a preview")
        if variables["SpaFallback"] and variables["NotFoundPage"]:
            raise ValueError("SpaFallback and NotFoundPage exclude each other (both answer missing objects)")
        if variables["NoncurrentVersionExpirationDays"] < 0:
            raise ValueError("NoncurrentVersionExpirationDays must be 0 (keep) or more")
        if variables["ServerAccessLogPrefix"] and not variables["ServerAccessLogBucket"]:
            raise ValueError("ServerAccessLogPrefix is only used with ServerAccessLogBucket; name the bucket receiving the logs")
        if variables["ServerAccessLogBucket"] and variables["ServerAccessLogBucket"] == variables["BucketName"]:
            raise ValueError("ServerAccessLogBucket must be another bucket than the site bucket (a bucket logging into itself never stops)")
        if variables["LoggingPrefix"] and not variables["LoggingBucket"]:
            raise ValueError("LoggingPrefix is only used with LoggingBucket; name the bucket receiving the CloudFront logs")

    @staticmethod
    def _bucket(variables: dict[str, Any]) -> s3.Bucket:
        """The private site bucket; versioned (old versions expiring) and logging only as the variables say."""
        properties: dict[str, Any] = {
            "PublicAccessBlockConfiguration": s3.PublicAccessBlockConfiguration(
                BlockPublicAcls=True, BlockPublicPolicy=True, IgnorePublicAcls=True, RestrictPublicBuckets=True
            ),
            "BucketEncryption": s3.BucketEncryption(
                ServerSideEncryptionConfiguration=[
                    s3.ServerSideEncryptionRule(ServerSideEncryptionByDefault=s3.ServerSideEncryptionByDefault(SSEAlgorithm="AES256"))
                ]
            ),
            "OwnershipControls": s3.OwnershipControls(Rules=[s3.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]),
        }
        if variables["BucketName"]:
            properties["BucketName"] = variables["BucketName"]
        if variables["ServerAccessLogBucket"]:
            access_logging: dict[str, Any] = {"DestinationBucketName": variables["ServerAccessLogBucket"]}
            if variables["ServerAccessLogPrefix"]:
                access_logging["LogFilePrefix"] = variables["ServerAccessLogPrefix"]
            properties["LoggingConfiguration"] = s3.LoggingConfiguration(**access_logging)
        if variables["Versioning"]:
            properties["VersioningConfiguration"] = s3.VersioningConfiguration(Status="Enabled")
            if variables["NoncurrentVersionExpirationDays"]:
                properties["LifecycleConfiguration"] = s3.LifecycleConfiguration(
                    Rules=[
                        s3.LifecycleRule(
                            Id="ExpireOldVersions",
                            Status="Enabled",
                            NoncurrentVersionExpiration=s3.NoncurrentVersionExpiration(
                                NoncurrentDays=variables["NoncurrentVersionExpirationDays"]
                            ),
                        )
                    ]
                )
        return s3.Bucket("Bucket", **properties)

    @staticmethod
    def _response_headers_policy(variables: dict[str, Any]) -> cloudfront.ResponseHeadersPolicy:
        security: dict[str, Any] = {
            "StrictTransportSecurity": cloudfront.StrictTransportSecurity(
                AccessControlMaxAgeSec=63072000, IncludeSubdomains=True, Preload=False, Override=True
            ),
            "ContentTypeOptions": cloudfront.ContentTypeOptions(Override=True),
            "FrameOptions": cloudfront.FrameOptions(FrameOption="DENY", Override=True),
            "ReferrerPolicy": cloudfront.ReferrerPolicy(ReferrerPolicy="strict-origin-when-cross-origin", Override=True),
            "XSSProtection": cloudfront.XSSProtection(Protection=True, ModeBlock=True, Override=True),
        }
        if variables["ContentSecurityPolicy"]:
            security["ContentSecurityPolicy"] = cloudfront.ContentSecurityPolicy(
                ContentSecurityPolicy=variables["ContentSecurityPolicy"], Override=True
            )
        return cloudfront.ResponseHeadersPolicy(
            "SecurityHeadersPolicy",
            ResponseHeadersPolicyConfig=cloudfront.ResponseHeadersPolicyConfig(
                Name=_unique_name("security-headers-"),
                Comment=Sub("Security headers of ${AWS::StackName}"),
                SecurityHeadersConfig=cloudfront.SecurityHeadersConfig(**security),
            ),
        )

    @staticmethod
    def _index_function() -> cloudfront.Function:
        return cloudfront.Function(
            "DirectoryIndexFunction",
            Name=_unique_name("dir-index-"),
            AutoPublish=True,
            FunctionCode=DIRECTORY_INDEX_FUNCTION,
            FunctionConfig=cloudfront.FunctionConfig(Comment="Serve /dir/ and /dir from /dir/index.html", Runtime="cloudfront-js-2.0"),
        )

    @staticmethod
    def _release_store() -> cloudfront.KeyValueStore:
        return cloudfront.KeyValueStore(
            "ReleasePointerStore",
            Name=_unique_name("site-releases-"),
            Comment=Sub("Live release pointer of ${AWS::StackName}"),
        )

    @staticmethod
    def _release_router(store: cloudfront.KeyValueStore, directory_index: bool, preview_domain: str) -> cloudfront.Function:
        return cloudfront.Function(
            "ReleaseRouterFunction",
            Name=_unique_name("site-router-"),
            AutoPublish=True,
            FunctionCode=release_router_function(SITE_PREFIX, directory_index, preview_domain),
            FunctionConfig=cloudfront.FunctionConfig(
                Comment="Serve the live release (KeyValueStore pointer) or the root",
                Runtime="cloudfront-js-2.0",
                KeyValueStoreAssociations=[cloudfront.KeyValueStoreAssociation(KeyValueStoreARN=GetAtt(store, "Arn"))],
            ),
        )

    @staticmethod
    def _release_headers() -> cloudfront.Function:
        return cloudfront.Function(
            "ReleaseHeadersFunction",
            Name=_unique_name("site-release-headers-"),
            AutoPublish=True,
            FunctionCode=RELEASE_HEADERS_FUNCTION,
            FunctionConfig=cloudfront.FunctionConfig(Comment="Release header and tab pin cookie", Runtime="cloudfront-js-2.0"),
        )

    @staticmethod
    def _distribution(
        variables: dict[str, Any],
        bucket: s3.Bucket,
        access_control: cloudfront.OriginAccessControl,
        headers_policy: cloudfront.ResponseHeadersPolicy,
        associations: list[cloudfront.FunctionAssociation],
    ) -> cloudfront.Distribution:
        behavior: dict[str, Any] = {
            "TargetOriginId": ORIGIN_ID,
            "ViewerProtocolPolicy": "redirect-to-https",
            "AllowedMethods": ["GET", "HEAD", "OPTIONS"],
            "CachedMethods": ["GET", "HEAD"],
            "Compress": True,
            "CachePolicyId": CACHING_OPTIMIZED_POLICY_ID,
            "ResponseHeadersPolicyId": Ref(headers_policy),
        }
        if associations:
            behavior["FunctionAssociations"] = associations
        config: dict[str, Any] = {
            "Enabled": True,
            "Comment": variables["Comment"] or StackName,
            "DefaultRootObject": "index.html",
            "HttpVersion": "http2and3",
            "IPV6Enabled": True,
            "PriceClass": variables["PriceClass"],
            "Origins": [
                cloudfront.Origin(
                    Id=ORIGIN_ID,
                    DomainName=GetAtt(bucket, "RegionalDomainName"),
                    OriginAccessControlId=GetAtt(access_control, "Id"),
                    S3OriginConfig=cloudfront.S3OriginConfig(OriginAccessIdentity=""),
                )
            ],
            "DefaultCacheBehavior": cloudfront.DefaultCacheBehavior(**behavior),
        }
        aliases = list(variables["Aliases"]) + ([preview_alias(variables["PreviewDomain"])] if variables["PreviewDomain"] else [])
        if aliases:
            config["Aliases"] = aliases
            config["ViewerCertificate"] = cloudfront.ViewerCertificate(
                AcmCertificateArn=variables["AcmCertificateArn"],
                SslSupportMethod="sni-only",
                MinimumProtocolVersion=VIEWER_MINIMUM_PROTOCOL_VERSION,
            )
        else:
            # The *.cloudfront.net certificate has no security policy to choose: CloudFront ignores a
            # MinimumProtocolVersion given with it, so none is written (it would only look stricter).
            config["ViewerCertificate"] = cloudfront.ViewerCertificate(CloudFrontDefaultCertificate=True)
        if variables["SpaFallback"]:
            config["CustomErrorResponses"] = [
                cloudfront.CustomErrorResponse(ErrorCode=code, ResponseCode=200, ResponsePagePath="/index.html", ErrorCachingMinTTL=10)
                for code in (403, 404)
            ]
        elif variables["NotFoundPage"]:
            config["CustomErrorResponses"] = [
                cloudfront.CustomErrorResponse(
                    ErrorCode=code, ResponseCode=404, ResponsePagePath=variables["NotFoundPage"], ErrorCachingMinTTL=60
                )
                for code in (403, 404)
            ]
        if variables["LoggingBucket"]:
            config["Logging"] = cloudfront.Logging(
                Bucket=logging_bucket_domain(variables["LoggingBucket"]),
                IncludeCookies=False,
                Prefix=variables["LoggingPrefix"],
            )
        if variables["WebAclArn"]:
            config["WebACLId"] = variables["WebAclArn"]
        return cloudfront.Distribution("Distribution", DistributionConfig=cloudfront.DistributionConfig(**config))

    @staticmethod
    def _bucket_policy(bucket: s3.Bucket, distribution_arn: Any) -> s3.BucketPolicy:
        objects = Sub(f"${{{bucket.title}.Arn}}/*")
        return s3.BucketPolicy(
            "BucketPolicy",
            Bucket=Ref(bucket),
            PolicyDocument={
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "AllowThisDistributionToRead",
                        "Effect": "Allow",
                        "Principal": {"Service": "cloudfront.amazonaws.com"},
                        "Action": "s3:GetObject",
                        "Resource": objects,
                        "Condition": {"StringEquals": {"AWS:SourceArn": distribution_arn}},
                    },
                    {
                        "Sid": "DenyToolFilesToTheDistribution",
                        "Effect": "Deny",
                        "Principal": {"Service": "cloudfront.amazonaws.com"},
                        "Action": "s3:GetObject",
                        "Resource": [Sub(f"${{{bucket.title}.Arn}}/{TOOL_PREFIX}/*"), Sub(f"${{{bucket.title}.Arn}}/*/{TOOL_PREFIX}/*")],
                    },
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [GetAtt(bucket, "Arn"), objects],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                ],
            },
        )


def _unique_name(prefix: str) -> Sub:
    """``prefix`` + the stack's GUID: unique per account, short enough for CloudFront's 64-character names."""
    return Sub(f"{prefix}${{StackGuid}}", StackGuid=Select(2, Split("/", StackId)))


__all__ = [
    "CACHING_OPTIMIZED_POLICY_ID",
    "DIRECTORY_INDEX_FUNCTION",
    "FUNCTION_CODE_MAX_BYTES",
    "RELEASES_FOLDER",
    "RELEASE_COOKIE",
    "RELEASE_HEADER",
    "RELEASE_HEADERS_FUNCTION",
    "SITE_PREFIX",
    "VIEWER_MINIMUM_PROTOCOL_VERSION",
    "StaticSiteCdn",
    "logging_bucket_domain",
    "preview_alias",
    "release_router_function",
    "site_prefix_of",
]
