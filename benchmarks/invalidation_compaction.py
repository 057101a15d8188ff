"""What invalidation compaction produces for 10, 100 and 5,000 changed files of a Next.js-like site.

Run: ``python benchmarks/invalidation_compaction.py [--max-paths 10 15 50] [--show]``.
Prints, for each change set and budget, how many paths are sent (files / wildcards) and, with
``--show``, the paths themselves. The site tree and the change sets are generated from a fixed
seed, so the table is reproducible.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import time

from runway_ext.hooks.cloudfront_invalidation.plan import plan_invalidation


def _hash(text: str, length: int = 16) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def nextjs_site(build: str = "build-1") -> list[str]:
    """Object keys of a static Next.js export (``trailingSlash: true``) with ~6,000 files."""
    keys = ["index.html", "404.html", "favicon.ico", "robots.txt", "sitemap.xml", "manifest.json"]
    keys += ["about/index.html", "contact/index.html", "pricing/index.html"]
    keys += [f"blog/{slug}/index.html" for slug in (f"post-{n:04d}" for n in range(1500))]
    keys += [f"blog/page/{n}/index.html" for n in range(2, 151)]
    keys += [f"docs/{section}/{page}/index.html" for section in ("guide", "api", "cli", "faq") for page in range(250)]
    keys += [f"products/{n}/index.html" for n in range(800)]
    keys += [f"images/blog/{n:04d}.webp" for n in range(1200)]
    keys += [f"_next/static/chunks/{_hash(build + str(n))}.js" for n in range(300)]
    keys += [f"_next/static/chunks/pages/{route}-{_hash(build + route)}.js" for route in ("index", "blog", "docs", "products", "about")]
    keys += [f"_next/static/css/{_hash(build + 'css' + str(n))}.css" for n in range(20)]
    keys += [f"_next/static/media/font-{n}.{_hash('font' + str(n), 8)}.woff2" for n in range(12)]
    keys += [f"_next/static/{build}/_buildManifest.js", f"_next/static/{build}/_ssgManifest.js"]
    keys += [f"_next/data/{build}/blog/post-{n:04d}.json" for n in range(600)]
    return keys


def change_set(site: list[str], count: int, seed: int = 7) -> list[str]:
    """``count`` changed keys as a sync reports them: ``/`` + key; the home page always among them."""
    rng = random.Random(seed)
    chosen = {"index.html", *rng.sample(site, count - 1)}
    return sorted("/" + key for key in chosen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-paths", type=int, nargs="+", default=[10, 15, 50])
    parser.add_argument("--show", action="store_true", help="print the compacted paths")
    options = parser.parse_args()
    site = nextjs_site()
    print(f"site: {len(site)} files")
    print(f"{'changed':>8} {'max_paths':>9} {'normalised':>10} {'sent':>5} {'files':>6} {'wildcards':>9} {'ms':>7}")
    for count in (10, 100, 5000):
        changed = change_set(site, count)
        for budget in options.max_paths:
            started = time.perf_counter()
            plan = plan_invalidation(changed_keys=changed, max_paths=budget)
            elapsed = (time.perf_counter() - started) * 1000
            print(
                f"{count:>8} {budget:>9} {plan.normalized:>10} {len(plan.paths):>5} "
                f"{plan.file_count:>6} {plan.wildcard_count:>9} {elapsed:>7.1f}"
            )
            if options.show:
                for path in plan.paths:
                    print(f"{'':>12}{path}")


if __name__ == "__main__":
    main()
