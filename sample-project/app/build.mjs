// Build the site into out/ the way `next build` with `output: "export"` lays it out: nested index.html
// pages, content-hashed assets under _next/static/ (CSS, JS and images, safe to cache for a year) and a
// 404.html. Node only, no dependencies.
//
// src/layout.html   the frame of every page: {{title}}, {{description}}, {{body}}, {{environment}}, {{build}},
//                   {{css}}, {{js}}, {{image:NAME}} (src/images/NAME, hashed) and {{current:PAGE}} (marks the
//                   nav link of the page being built)
// src/pages/*.html  one page each (index.html is /); first lines `<!-- title: … -->`, `<!-- description: … -->`
// src/not-found.html the body of 404.html
// .env.local        written by the deploy from .env.<environment>: NEXT_PUBLIC_ENVIRONMENT, NEXT_PUBLIC_API_URL
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, extname, join } from "node:path";

const out = "out";
const env = {};
if (existsSync(".env.local")) {
  for (const line of readFileSync(".env.local", "utf8").split("\n")) {
    const match = line.match(/^([A-Za-z_][A-Za-z0-9_]*)=(?:'([^']*)'|"([^"]*)"|(.*))$/);
    if (match) env[match[1]] = match[2] ?? match[3] ?? match[4] ?? "";
  }
}
const hash = (data) => createHash("sha256").update(data).digest("hex").slice(0, 12);
const write = (path, data) => {
  mkdirSync(dirname(join(out, path)), { recursive: true });
  writeFileSync(join(out, path), data);
};
const escapeHtml = (text) =>
  String(text).replace(/[&<>"']/g, (character) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[character]);

rmSync(out, { recursive: true, force: true });

// Assets, each named by its content's hash.
const images = {};
for (const name of readdirSync("src/images").sort()) {
  const data = readFileSync(join("src/images", name));
  const path = `_next/static/media/${name.slice(0, -extname(name).length)}.${hash(data)}${extname(name)}`;
  write(path, data);
  images[name] = `/${path}`;
}
const css = readFileSync("src/site.css", "utf8");
const js = readFileSync("src/site.js", "utf8").replace("__API_URL__", env.NEXT_PUBLIC_API_URL ?? "");
const cssPath = `_next/static/css/site.${hash(css)}.css`;
const jsPath = `_next/static/chunks/site.${hash(js)}.js`;
write(cssPath, css);
write(jsPath, js);
const pages = readdirSync("src/pages").filter((name) => name.endsWith(".html")).sort();
const buildId = hash(css + js + JSON.stringify(images) + pages.join());
write(`_next/static/${buildId}/_buildManifest.js`, `self.__BUILD_MANIFEST={pages:${JSON.stringify(pages)}};`);

const layout = readFileSync("src/layout.html", "utf8");
const environment = escapeHtml(env.NEXT_PUBLIC_ENVIRONMENT || "unknown");

function meta(source, key, fallback) {
  const match = source.match(new RegExp(`<!--\\s*${key}:\\s*(.*?)\\s*-->`));
  return match ? match[1] : fallback;
}

function render(source, page) {
  const values = {
    title: escapeHtml(meta(source, "title", page)),
    description: escapeHtml(meta(source, "description", "")),
    body: source.replace(/^\s*<!--.*?-->\s*$/gm, "").trim(),
    environment,
    build: buildId,
    css: `/${cssPath}`,
    js: `/${jsPath}`,
  };
  // Page bodies may use {{environment}} and {{image:…}} too, so the frame is filled first, then its body.
  const fill = (text) =>
    text.replace(/\{\{(\w+)(?::([\w.-]+))?\}\}/g, (whole, key, argument) => {
      if (key === "image") {
        if (!(argument in images)) throw new Error(`${page}: no image src/images/${argument}`);
        return images[argument];
      }
      if (key === "current") return argument === page ? ' aria-current="page"' : "";
      if (key in values) return values[key];
      throw new Error(`${page}: unknown placeholder ${whole}`);
    });
  return fill(layout.replace("{{body}}", () => fill(values.body)));
}

for (const file of pages) {
  const page = file.replace(/\.html$/, "");
  const html = render(readFileSync(join("src/pages", file), "utf8"), page);
  write(page === "index" ? "index.html" : `${page}/index.html`, html);
}
write("404.html", render(readFileSync("src/not-found.html", "utf8"), "404"));
console.log(`built ${out}/ (build ${buildId}: ${pages.length} pages, 404.html, ${Object.keys(images).length} images)`);
