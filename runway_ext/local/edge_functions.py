"""CloudFront Functions run in node, with the ``cloudfront-js-2.0`` event and result shapes.

One node process per edge fleet runs every function: it reads one JSON line per call (``{code, event, kvs}``),
evaluates the code in its own ``vm`` context and calls its ``handler`` with the event (an ``async`` handler
is awaited), and writes one JSON line back: the returned request or response, the lines the function
logged, or the error it threw. Code with ``import`` declarations runs as an ES module, as
``cloudfront-js-2.0`` allows: ``import cf from 'cloudfront'`` gives the runtime's ``cf`` object, whose
``cf.kvs()`` reads the key value store associated with the function from the local data plane
(:mod:`runway_ext.local.moto_kvs`, on the stand-in's endpoint) with the documented helpers: ``get(key,
{format: 'string'|'json'|'bytes'})`` (rejects when the key is not there or the store cannot be read),
``exists(key)`` and ``meta()``. A function without an associated store gets an error from ``cf.kvs()``.
Other ``cf`` helpers (origin selection) are not emulated and throw.

A call is bounded (:data:`CALL_TIMEOUT`); a function that loops, throws or returns something that is
neither a request nor a response is an error the edge answers with 503, as CloudFront does
(``FunctionExecutionError``), and the error is logged. Only the modules CloudFront Functions offer can be
required or imported (``crypto``, ``querystring``, ``buffer``, and ``cloudfront`` for imports).
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from typing import IO, Any

from runway_ext.local.moto_kvs import EDGE_READER_HEADER, MISSING_KEY_HEADER

CALL_TIMEOUT = 2.0
"""Seconds one function call may take, node's own start and the store reads included (CloudFront allows about 1 ms of compute)."""
KVS_ENDPOINT_VARIABLE = "RUNWAY_EXT_KVS_ENDPOINT"
"""The node process's variable naming the local data plane's endpoint."""

HARNESS = (
    r"""
'use strict';
const vm = require('node:vm');
const readline = require('node:readline');
const ALLOWED = new Set(['crypto', 'querystring', 'buffer']);
const ENDPOINT = process.env.__KVS_ENDPOINT_VARIABLE__ || '';
const READER_HEADER = '__READER_HEADER__';
const MISSING_KEY_HEADER = '__MISSING_KEY_HEADER__';
const loaded = new Map();

function notEmulated(name) {
  return () => { throw new Error(`cf.${name}() is not emulated by the local edge`); };
}

async function storeRequest(arn, suffix) {
  if (!ENDPOINT) throw new Error('the local key value store endpoint is not configured');
  let response;
  try {
    response = await fetch(`${ENDPOINT}/key-value-stores/${encodeURIComponent(arn)}${suffix}`, { headers: { [READER_HEADER]: '1' } });
  } catch (error) {
    throw new Error(`the key value store could not be read: ${error.message}`);
  }
  const body = await response.json().catch(() => ({}));
  return { status: response.status, missingKey: response.headers.get(MISSING_KEY_HEADER) === 'true', body };
}

function keyValueStore(arn) {
  async function read(key) {
    if (typeof key !== 'string' || key.length === 0) throw new Error('the key must be a non-empty string');
    const found = await storeRequest(arn, `/keys/${encodeURIComponent(key)}`);
    if (found.status === 200) return { value: String(found.body.Value) };
    if (found.missingKey) return { value: undefined };
    throw new Error(`the key value store could not be read: ${found.status} ${found.body.message || ''}`.trim());
  }
  return {
    async get(key, options) {
      const found = await read(key);
      if (found.value === undefined) throw new Error(`the key '${key}' does not exist in the key value store`);
      const format = (options && options.format) || 'string';
      if (format === 'string') return found.value;
      if (format === 'json') return JSON.parse(found.value);
      if (format === 'bytes') return new Uint8Array(Buffer.from(found.value, 'utf8'));
      throw new Error(`unknown format '${format}' (string, json or bytes)`);
    },
    async exists(key) {
      return (await read(key)).value !== undefined;
    },
    async meta() {
      const found = await storeRequest(arn, '');
      if (found.status !== 200) throw new Error(`the key value store could not be read: ${found.status} ${found.body.message || ''}`.trim());
      return {
        creationDateTime: new Date(found.body.Created * 1000).toISOString(),
        lastUpdatedDateTime: new Date(found.body.LastModified * 1000).toISOString(),
        keyCount: found.body.ItemCount,
      };
    },
  };
}

function cloudfrontModule(arn) {
  return {
    kvs(id) {
      if (!arn) throw new Error('no key value store is associated with this function');
      if (id !== undefined && !arn.endsWith('/' + id)) throw new Error(`key value store '${id}' is not the one associated with this function`);
      return keyValueStore(arn);
    },
    updateRequestOrigin: notEmulated('updateRequestOrigin'),
    selectRequestOriginById: notEmulated('selectRequestOriginById'),
    createRequestOriginGroup: notEmulated('createRequestOriginGroup'),
  };
}

function isModule(code) {
  return /^\s*import\s+[^;]*?\bfrom\s*['"][^'"]+['"]/m.test(code) || /^\s*import\s*['"][^'"]+['"]/m.test(code);
}

async function load(code, arn) {
  const key = `${arn || ''}
${code}`;
  let entry = loaded.get(key);
  if (entry) return entry;
  entry = { logs: [] };
  const log = (...parts) => entry.logs.push(parts.map((part) => typeof part === 'string' ? part : JSON.stringify(part)).join(' '));
  if (isModule(code)) {
    entry.context = vm.createContext({ console: { log } });
    let module;
    try {
      module = new vm.SourceTextModule(code + '\nexport { handler as __runway_ext_handler };',
                                       { context: entry.context, identifier: 'cloudfront-function.js' });
    } catch (error) {
      if (/handler/.test(String(error && error.message))) throw new Error('the function code defines no handler(event)');
      throw error;
    }
    await module.link(async (specifier) => {
      let exported;
      if (specifier === 'cloudfront') exported = { default: cloudfrontModule(arn) };
      else if (ALLOWED.has(specifier)) exported = { default: require(specifier), ...require(specifier) };
      else throw new Error(`module '${specifier}' is not available in CloudFront Functions`);
      const names = Object.keys(exported);
      return new vm.SyntheticModule(names, function () { for (const name of names) this.setExport(name, exported[name]); },
                                    { context: entry.context, identifier: specifier });
    });
    await module.evaluate({ timeout: 1000 });
    entry.context.__cloudfront_handler = module.namespace.__runway_ext_handler;
  } else {
    const sandbox = {
      console: { log },
      require: (name) => {
        if (!ALLOWED.has(name)) throw new Error(`module '${name}' is not available in CloudFront Functions`);
        return require(name);
      },
    };
    entry.context = vm.createContext(sandbox);
    new vm.Script(code + '\n;globalThis.__cloudfront_handler = typeof handler === "function" ? handler : undefined;',
                  { filename: 'cloudfront-function.js' }).runInContext(entry.context, { timeout: 1000 });
  }
  if (typeof entry.context.__cloudfront_handler !== 'function') throw new Error('the function code defines no handler(event)');
  loaded.set(key, entry);
  return entry;
}

async function call(message) {
  const entry = await load(message.code, message.kvs || null);
  entry.logs = [];
  entry.context.__event = message.event;
  let result = new vm.Script('__cloudfront_handler(__event)').runInContext(entry.context, { timeout: 1000 });
  if (result && typeof result.then === 'function') {
    result = await Promise.race([result, new Promise((_, reject) => setTimeout(() => reject(new Error('the handler did not settle in 1000 ms')), 1000))]);
  }
  return { result: JSON.parse(JSON.stringify(result === undefined ? null : result)), logs: entry.logs };
}

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', async (line) => {
  let reply;
  try {
    reply = { ok: true, ...(await call(JSON.parse(line))) };
  } catch (error) {
    reply = { ok: false, error: String(error && error.message || error) };
  }
  process.stdout.write(JSON.stringify(reply) + '\n');
});
""".replace("__KVS_ENDPOINT_VARIABLE__", KVS_ENDPOINT_VARIABLE)
    .replace("__READER_HEADER__", EDGE_READER_HEADER)
    .replace("__MISSING_KEY_HEADER__", MISSING_KEY_HEADER)
)


class FunctionError(Exception):
    """The function failed (threw, timed out, returned nothing usable) or could not run at all."""


@dataclass
class FunctionRunner:
    """A node process running CloudFront Functions, one call at a time; restarted after a failure."""

    node: str | None = field(default_factory=lambda: shutil.which("node"))
    kvs_endpoint: str | None = None
    """The stand-in's endpoint, where ``cf.kvs()`` reads the local data plane."""
    _process: subprocess.Popen[str] | None = None
    _replies: queue.Queue[str] = field(default_factory=queue.Queue)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def call(self, code: str, event: dict[str, Any], key_value_store: str | None = None) -> tuple[dict[str, Any], list[str]]:
        """Run ``handler(event)`` (``key_value_store``: ARN of the associated store); return its result and its log lines."""
        if self.node is None:
            raise FunctionError("node is not installed, so the CloudFront Function cannot run")
        with self._lock:
            process = self._ensure_started()
            assert process.stdin is not None
            try:
                process.stdin.write(json.dumps({"code": code, "event": event, "kvs": key_value_store}) + "\n")
                process.stdin.flush()
                line = self._replies.get(timeout=CALL_TIMEOUT)
            except (OSError, queue.Empty):
                self._stop_locked()
                raise FunctionError(f"the function did not answer in {CALL_TIMEOUT:g}s") from None
        reply = json.loads(line)
        if not reply.get("ok"):
            raise FunctionError(str(reply.get("error")))
        result = reply.get("result")
        if not isinstance(result, dict):
            raise FunctionError(f"the handler returned {json.dumps(result)}, neither a request nor a response object")
        return result, [str(entry) for entry in reply.get("logs", [])]

    def _ensure_started(self) -> subprocess.Popen[str]:
        if self._process is None or self._process.poll() is not None:
            assert self.node is not None
            self._replies = queue.Queue()
            environment = {**os.environ, KVS_ENDPOINT_VARIABLE: self.kvs_endpoint or ""}
            self._process = subprocess.Popen(
                [self.node, "--experimental-vm-modules", "--no-warnings", "-e", HARNESS],
                env=environment,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                encoding="utf-8",
                start_new_session=True,
            )
            threading.Thread(target=_pump, args=(self._process.stdout, self._replies), daemon=True).start()
        return self._process

    def _stop_locked(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    def stop(self) -> None:
        """Stop the node process (by its pid)."""
        with self._lock:
            self._stop_locked()


def _pump(stream: IO[str] | None, replies: queue.Queue[str]) -> None:
    for line in stream or ():
        replies.put(line)


def viewer_request_event(
    *,
    distribution_id: str,
    domain_name: str,
    request_id: str,
    method: str,
    uri: str,
    query: str,
    headers: list[tuple[str, str]],
    viewer_ip: str,
) -> dict[str, Any]:
    """The ``cloudfront-js-2.0`` viewer-request event for an incoming request."""
    from urllib.parse import parse_qsl

    querystring: dict[str, Any] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name in querystring:
            querystring[name].setdefault("multiValue", [{"value": querystring[name]["value"]}]).append({"value": value})
        else:
            querystring[name] = {"value": value}
    header_map: dict[str, Any] = {}
    cookies: dict[str, Any] = {}
    for name, value in headers:
        lower = name.lower()
        if lower == "cookie":
            for pair in value.split(";"):
                key, _, cookie_value = pair.strip().partition("=")
                if key:
                    cookies[key] = {"value": cookie_value}
            continue
        if lower in header_map:
            header_map[lower].setdefault("multiValue", [{"value": header_map[lower]["value"]}]).append({"value": value})
        else:
            header_map[lower] = {"value": value}
    return {
        "version": "1.0",
        "context": {
            "distributionDomainName": domain_name,
            "distributionId": distribution_id,
            "eventType": "viewer-request",
            "requestId": request_id,
        },
        "viewer": {"ip": viewer_ip},
        "request": {"method": method, "uri": uri, "querystring": querystring, "headers": header_map, "cookies": cookies},
    }


def viewer_response_event(
    *,
    distribution_id: str,
    domain_name: str,
    request_id: str,
    request: dict[str, Any],
    status: int,
    status_description: str,
    headers: list[tuple[str, str]],
    viewer_ip: str,
) -> dict[str, Any]:
    """The ``cloudfront-js-2.0`` viewer-response event.

    ``request`` is the request as CloudFront went on with it: the one the viewer-request function returned
    (its rewritten ``uri`` and the headers it added included), else the viewer's. ``Set-Cookie`` headers
    become ``response.cookies`` (value and attributes), the other headers ``response.headers``.
    """
    header_map: dict[str, Any] = {}
    cookies: dict[str, Any] = {}
    for name, value in headers:
        lower = name.lower()
        if lower == "set-cookie":
            pair, _, attributes = value.partition(";")
            key, _, cookie_value = pair.strip().partition("=")
            entry: dict[str, Any] = {"value": cookie_value}
            if attributes.strip():
                entry["attributes"] = attributes.strip()
            if key in cookies:
                cookies[key].setdefault("multiValue", [dict(cookies[key])]).append(entry)
            else:
                cookies[key] = entry
            continue
        if lower in header_map:
            header_map[lower].setdefault("multiValue", [{"value": header_map[lower]["value"]}]).append({"value": value})
        else:
            header_map[lower] = {"value": value}
    return {
        "version": "1.0",
        "context": {
            "distributionDomainName": domain_name,
            "distributionId": distribution_id,
            "eventType": "viewer-response",
            "requestId": request_id,
        },
        "viewer": {"ip": viewer_ip},
        "request": request,
        "response": {"statusCode": status, "statusDescription": status_description, "headers": header_map, "cookies": cookies},
    }
