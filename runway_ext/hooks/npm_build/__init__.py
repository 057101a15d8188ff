"""Build a static web app with npm and sync it to S3: exact, incremental, skipped when nothing changed.

config.yml (post_deploy, so ``${output …}`` resolves)::

    post_deploy:
      - path: runway_ext.hooks.npm_build.build_and_sync_app
        args:
          bucket_name: ${output site.BucketName}
          app_path: ./app
          environment: ${environment}
          delete: true

Steps: copy ``.env.<environment>`` to ``.env.local``; hash the app's sources; if the bucket's site
manifest says this hash (with the same settings) is already deployed, stop there. Otherwise install
(``npm ci`` with a lockfile, ``npm install`` without) when ``node_modules`` is missing, ``npm run build``,
and sync the output folder to the bucket by content (see :mod:`runway_ext.static_site.inplace`). The
result lands in hook_data as ``runway_ext.npm_build`` — ``changed_paths`` is what the CloudFront
invalidation hook takes. CLI::

    python -m runway_ext.hooks.npm_build --bucket-name my-bucket --app-path ./app --environment prod

Modules: ``args`` (arguments, result), ``source_hash``, ``npm`` (package.json, env file, npm),
``build_output`` (the output folder and its files), ``local_cache`` (digests of unchanged files),
``hook`` (the body). The site itself (sync planner, headers, manifest, lock, S3, releases) is
:mod:`runway_ext.static_site`.
"""

from runway_ext.hooks.npm_build.args import CacheRuleArg, NpmBuildArgs, NpmBuildResult
from runway_ext.hooks.npm_build.hook import COMMAND, build_and_sync_app

__all__ = ["COMMAND", "CacheRuleArg", "NpmBuildArgs", "NpmBuildResult", "build_and_sync_app"]
