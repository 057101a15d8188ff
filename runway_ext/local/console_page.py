"""The local console's HTML: one server-rendered page, its stylesheet and a few lines of script. Pure.

:func:`render_page` is the whole document; :func:`render_main` is its ``<main>``, which ``console.js`` fetches
again from ``/main`` every :data:`REFRESH_SECONDS` and swaps in when it changed (open ``<details>`` stay
open), so the page follows a deploy while it runs. Nothing is loaded from elsewhere: the stylesheet and the
script are served by the console itself (``/console.css``, ``/console.js``) and the page's Content-Security-
Policy allows nothing else.

Every value goes through the logs' redaction (:func:`runway_ext.core.log.redact`); a stack output whose name
or shape says it is a secret is masked outright, as the hooks mask such variables. Then it is HTML-escaped.
"""

from __future__ import annotations

import html
import time
from collections.abc import Iterable

from runway_ext.core.log import MASK, looks_secret, redact
from runway_ext.local.console_state import ConsoleState, ImageView, RunView, SiteView, StackView
from runway_ext.local.summary import hook_lines

REFRESH_SECONDS = 2
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

STYLESHEET = """\
:root { color-scheme: light dark; --line: #8884; --muted: #888; --ok: #1a7f37; --bad: #cf222e; --live: #0969da; }
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 72rem; padding: 1rem 1.5rem 3rem; }
header { display: flex; flex-wrap: wrap; gap: 0.5rem 1.5rem; align-items: baseline; border-bottom: 1px solid var(--line); }
header h1 { font-size: 1.25rem; margin: 0.5rem 0; }
h2 { font-size: 1.05rem; margin: 1.75rem 0 0.5rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 0.3rem 0.5rem; border-bottom: 1px solid var(--line); }
th { font-weight: 600; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 0.92em; word-break: break-all; }
.muted { color: var(--muted); }
.ok { color: var(--ok); }
.bad { color: var(--bad); font-weight: 600; }
.live { color: var(--live); font-weight: 600; }
.preview { color: var(--muted); font-weight: 600; }
.site { border: 1px solid var(--line); border-radius: 6px; padding: 0.5rem 1rem; margin: 0.75rem 0; }
.problem { color: var(--bad); }
details summary { cursor: pointer; }
ul.plain { margin: 0.25rem 0; padding-left: 1.25rem; }
"""

SCRIPT = f"""\
"use strict";
(function () {{
  const main = document.querySelector("main");
  async function refresh() {{
    try {{
      const response = await fetch("/main", {{ cache: "no-store" }});
      if (!response.ok) return;
      const text = await response.text();
      if (text === main.dataset.shown) return;
      const open = new Set([...main.querySelectorAll("details[open]")].map((node) => node.dataset.key));
      main.innerHTML = text;
      main.dataset.shown = text;
      for (const node of main.querySelectorAll("details")) if (open.has(node.dataset.key)) node.open = true;
      document.body.dataset.refreshed = String(Date.now());
    }} catch (error) {{
      document.body.dataset.offline = "true";
    }}
  }}
  main.dataset.shown = main.innerHTML;
  setInterval(refresh, {REFRESH_SECONDS * 1000});
}})();
"""


def text(value: object) -> str:
    """``value`` as the page shows it: redacted, then escaped."""
    return html.escape(redact(str(value)), quote=True)


def output_value(name: str, value: str) -> str:
    """A stack output's value as shown: masked when its name or shape says secret, else redacted and escaped."""
    return MASK if looks_secret(name, value) else text(value)


def render_page(state: ConsoleState) -> str:
    """The whole console document."""
    registry = f"<code>{text(state.registry)}</code>" if state.registry else '<span class="muted">none</span>'
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<title>runway-ext local console</title>\n<link rel="stylesheet" href="/console.css">\n</head>\n<body>\n'
        f"<header><h1>runway-ext local console</h1><span>AWS stand-in <code>{text(state.endpoint)}</code></span>"
        f"<span>registry {registry}</span></header>\n"
        f'<main>{render_main(state)}</main>\n<script src="/console.js"></script>\n</body>\n</html>\n'
    )


def render_main(state: ConsoleState) -> str:
    """The page's ``<main>``: stacks, sites, images, hook runs."""
    taken = time.strftime("%H:%M:%S", time.localtime(state.taken_at))
    parts = [f'<p class="muted">as of <span id="taken">{taken}</span>; refreshed every {REFRESH_SECONDS} s</p>']
    parts += _section("stacks", "Stacks", _stacks(state.stacks), state)
    parts += _section("sites", "Sites", _sites(state.sites), state)
    parts += _section("images", "Images", _images(state.images, state.registry), state)
    parts += _section("runs", "Hook runs", _runs(state.runs), state)
    return "\n".join(parts)


def _section(key: str, title: str, body: str, state: ConsoleState) -> list[str]:
    problems = "".join(f'<p class="problem">could not read {key}: {text(line)}</p>' for line in state.problems.get(key, []))
    return [f'<section id="{key}"><h2>{title}</h2>{problems}{body}</section>']


def _stacks(stacks: Iterable[StackView]) -> str:
    rows = []
    for stack in stacks:
        status_class = (
            "bad" if "FAILED" in stack.status or "ROLLBACK" in stack.status else "ok" if stack.status.endswith("_COMPLETE") else ""
        )
        outputs = "".join(f"<li><code>{text(key)}</code> = <code>{output_value(key, value)}</code></li>" for key, value in stack.outputs)
        reason = f'<div class="muted">{text(stack.reason)}</div>' if stack.reason and status_class == "bad" else ""
        rows.append(
            f'<tr data-stack="{text(stack.name)}"><td><code>{text(stack.name)}</code></td>'
            f'<td class="{status_class}">{text(stack.status)}{reason}</td>'
            f"<td>{f'<ul class=plain>{outputs}</ul>' if outputs else '<span class=muted>none</span>'}</td></tr>"
        )
    if not rows:
        return '<p class="muted">No stacks yet: deploy a project against this stand-in.</p>'
    return "<table><thead><tr><th>stack</th><th>status</th><th>outputs</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"


def _sites(sites: Iterable[SiteView]) -> str:
    blocks = [_site(site) for site in sites]
    return "".join(blocks) or '<p class="muted">No CloudFront distribution yet.</p>'


def _site(site: SiteView) -> str:
    link = (
        f'<a class="site-link" href="{text(site.url)}">{text(site.url)}</a>'
        if site.url
        else '<span class="muted">not served yet (the local edge has not picked it up)</span>'
    )
    origin = f"<code>s3://{text(site.bucket)}/{text(site.prefix)}</code>" if site.bucket else '<span class="muted">not an S3 origin</span>'
    parts = [
        f'<div class="site" data-distribution="{text(site.distribution_id)}">',
        f"<h3><code>{text(site.distribution_id)}</code> {text(site.comment)}</h3>",
        f"<p>{link} · origin {origin}</p>",
    ]
    parts += [f'<p class="problem">{text(line)}</p>' for line in site.problems]
    parts.append("<h4>Releases</h4>")
    if site.releases:
        rows = []
        for release in site.releases:
            marker = ' <span class="live">live</span>' if release.live else ""
            marker += "".join(
                f' <span class="preview" data-preview="{text(name)}">preview {text(name)}</span>' for name in release.previews
            )
            restored = f" (restores {text(release.restored_from)})" if release.restored_from else ""
            if release.diff_total is None:
                diff = '<span class="muted">first release</span>'
            elif release.diff_total == 0:
                diff = '<span class="muted">no change</span>'
            else:
                more = (
                    f"<li class=muted>… {release.diff_total - len(release.diff)} more</li>"
                    if release.diff_total > len(release.diff)
                    else ""
                )
                keys = "".join(f"<li><span class=mono>{text(kind)}</span> <code>{text(key)}</code></li>" for kind, key in release.diff)
                diff = (
                    f'<details data-key="diff-{text(site.distribution_id)}-{text(release.id)}"><summary>{release.diff_total} key(s)</summary>'
                    f"<ul class=plain>{keys}{more}</ul></details>"
                )
            rows.append(
                f'<tr data-release="{text(release.id)}"><td><code>{text(release.id)}</code>{marker}</td><td>{text(release.time)}</td>'
                f"<td>{text(release.kind)}{restored}</td><td>{text(release.deployed_by)}</td><td>{release.files}</td><td>{diff}</td></tr>"
            )
        parts.append(
            "<table><thead><tr><th>release</th><th>time</th><th>kind</th><th>by</th><th>files</th><th>diff vs previous</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
        )
    else:
        parts.append('<p class="muted">none recorded</p>')
    parts.append("<h4>Invalidations</h4>")
    if site.invalidations:
        rows = [
            f'<tr><td><code>{text(item.id)}</code></td><td class="{"ok" if item.status.lower() == "completed" else ""}">{text(item.status)}</td>'
            f"<td>{text(item.created)}</td><td>{' '.join(f'<code>{text(path)}</code>' for path in item.paths)}</td></tr>"
            for item in site.invalidations
        ]
        parts.append(
            "<table><thead><tr><th>invalidation</th><th>status</th><th>created</th><th>paths</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
        )
    else:
        parts.append('<p class="muted">none</p>')
    parts.append("</div>")
    return "".join(parts)


def _images(images: Iterable[ImageView], registry: str | None) -> str:
    rows = []
    for image in images:
        if image.registry_digest and image.ecr_digest and image.registry_digest != image.ecr_digest:
            agreement = '<span class="bad">ECR records another digest than the registry holds</span>'
        elif image.registry_digest is None and registry:
            agreement = '<span class="muted">not in the local registry</span>'
        else:
            agreement = ""
        rows.append(
            f'<tr data-image="{text(image.repository)}:{text(image.tag)}"><td><code>{text(image.repository)}:{text(image.tag)}</code></td>'
            f"<td><code>{text(image.registry_digest or '—')}</code></td>"
            f"<td><code>{text(image.lookup)}</code><br>→ <code>{text(image.resolves_to or 'not recorded in ECR: the lookup fails')}</code> {agreement}</td></tr>"
        )
    if not rows:
        where = "the local registry or " if registry else ""
        return f'<p class="muted">No image in {where}the stand-in\'s ECR.</p>'
    return (
        "<table><thead><tr><th>image</th><th>digest in the local registry</th><th>lookup and what it resolves to</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _runs(runs: Iterable[RunView]) -> str:
    blocks = []
    for run in runs:
        state = '<span class="live">running</span>' if run.running else ""
        lines = []
        for hook in run.hooks:
            (line,) = hook_lines([{"hook": hook.hook, "ok": hook.ok, "result": hook.result, "error": hook.error}])
            name, _, figures = line.strip().partition(": ")
            css = "bad" if not hook.ok else ""
            lines.append(f'<li class="{css}" data-hook="{text(name)}"><code>{text(name)}</code>: {text(figures)}</li>')
        lines += [f'<li class="problem">{text(problem)}</li>' for problem in run.problems]
        body = "".join(lines) or '<li class="muted">no hook has reported yet</li>'
        blocks.append(
            f'<div class="run" data-run="{text(run.name)}"><h3>{text(run.action)} {text(run.started)} {state}</h3><ul class=plain>{body}</ul></div>'
        )
    return "".join(blocks) or '<p class="muted">No deploy has run against this stand-in yet.</p>'
