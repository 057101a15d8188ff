"""CloudFront Functions run in node, with the ``cloudfront-js-2.0`` event and result shapes.

One node process per edge fleet runs every function: it reads one JSON line per call (``{code, event}``),
evaluates the code in its own ``vm`` context (the function's ``handler`` gets the event; an ``async`` handler
is awaited), and writes one JSON line back: the returned request or response, the lines the function
logged, or the error it threw. A call is bounded (:data:`CALL_TIMEOUT`); a function that loops, throws or
returns something that is neither a request nor a response is an error the edge answers with 503, as
CloudFront does (``FunctionExecutionError``), and the error is logged. Only the modules CloudFront Functions
offer can be required (``crypto``, ``querystring``, ``buffer``).
"""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from typing import IO, Any

CALL_TIMEOUT = 2.0
"""Seconds one function call may take, node's own start included (CloudFront allows about 1 ms of compute)."""

HARNESS = r"""
'use strict';
const vm = require('node:vm');
const readline = require('node:readline');
const ALLOWED = new Set(['crypto', 'querystring', 'buffer']);
const contexts = new Map();

function load(code) {
  let entry = contexts.get(code);
  if (entry) return entry;
  entry = { logs: [] };
  const sandbox = {
    console: { log: (...parts) => entry.logs.push(parts.map((part) => typeof part === 'string' ? part : JSON.stringify(part)).join(' ')) },
    require: (name) => {
      if (!ALLOWED.has(name)) throw new Error(`module '${name}' is not available in CloudFront Functions`);
      return require(name);
    },
  };
  entry.context = vm.createContext(sandbox);
  new vm.Script(code + '\n;globalThis.__cloudfront_handler = typeof handler === "function" ? handler : undefined;',
                { filename: 'cloudfront-function.js' }).runInContext(entry.context, { timeout: 1000 });
  if (typeof entry.context.__cloudfront_handler !== 'function') throw new Error('the function code defines no handler(event)');
  contexts.set(code, entry);
  return entry;
}

async function call(message) {
  const entry = load(message.code);
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
"""


class FunctionError(Exception):
    """The function failed (threw, timed out, returned nothing usable) or could not run at all."""


@dataclass
class FunctionRunner:
    """A node process running CloudFront Functions, one call at a time; restarted after a failure."""

    node: str | None = field(default_factory=lambda: shutil.which("node"))
    _process: subprocess.Popen[str] | None = None
    _replies: queue.Queue[str] = field(default_factory=queue.Queue)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def call(self, code: str, event: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
        """Run ``handler(event)``; return its result (a request or a response object) and its log lines."""
        if self.node is None:
            raise FunctionError("node is not installed, so the viewer-request CloudFront Function cannot run")
        with self._lock:
            process = self._ensure_started()
            assert process.stdin is not None
            try:
                process.stdin.write(json.dumps({"code": code, "event": event}) + "\n")
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
            self._process = subprocess.Popen(
                [self.node, "-e", HARNESS],
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
