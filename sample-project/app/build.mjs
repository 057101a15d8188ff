// Build the site into out/ the way `next build` with `output: "export"` lays it out:
// nested index.html pages and content-hashed assets under _next/static/<build id>/.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { dirname, join } from "node:path";

const out = "out";
const env = {};
if (existsSync(".env.local")) {
  for (const line of readFileSync(".env.local", "utf8").split("\n")) {
    const match = line.match(/^([A-Za-z_][A-Za-z0-9_]*)=(?:'([^']*)'|"([^"]*)"|(.*))$/);
    if (match) env[match[1]] = match[2] ?? match[3] ?? match[4] ?? "";
  }
}
const hash = (text) => createHash("sha256").update(text).digest("hex").slice(0, 12);
const write = (path, text) => {
  mkdirSync(dirname(join(out, path)), { recursive: true });
  writeFileSync(join(out, path), text);
};

rmSync(out, { recursive: true, force: true });
const css = readFileSync("src/site.css", "utf8");
const js = readFileSync("src/site.js", "utf8").replace("__API_URL__", env.NEXT_PUBLIC_API_URL ?? "");
const buildId = hash(css + js);
const cssPath = `_next/static/css/site.${hash(css)}.css`;
const jsPath = `_next/static/chunks/site.${hash(js)}.js`;
write(cssPath, css);
write(jsPath, js);
write(`_next/static/${buildId}/_buildManifest.js`, `self.__BUILD_MANIFEST={pages:${JSON.stringify(readdirSync("src/pages"))}};`);

const layout = readFileSync("src/layout.html", "utf8");
for (const page of readdirSync("src/pages")) {
  const body = readFileSync(join("src/pages", page), "utf8");
  const name = page.replace(/\.html$/, "");
  const html = layout
    .replace("{{title}}", name === "index" ? "Home" : name)
    .replace("{{body}}", body)
    .replace("{{environment}}", env.NEXT_PUBLIC_ENVIRONMENT ?? "unknown")
    .replace("{{css}}", `/${cssPath}`)
    .replace("{{js}}", `/${jsPath}`);
  write(name === "index" ? "index.html" : `${name}/index.html`, html);
}
write("404.html", layout.replace("{{title}}", "Not found").replace("{{body}}", "<p>Not found.</p>").replace("{{environment}}", "").replace("{{css}}", `/${cssPath}`).replace("{{js}}", `/${jsPath}`));
console.log(`built ${out}/ (build ${buildId})`);
