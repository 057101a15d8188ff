"""Promote an image to another repository, region or account without rebuilding: same digest, every platform.

config.yml::

    pre_deploy:
      - path: runway_ext.hooks.docker_promote.cfngin_hook
        args:
          source: my-app:v1.0.0                 # what was tested (in the deploy's region and account)
          destination: my-app-prod:v1.0.0
          destination_region: eu-west-1

CLI::

    runway-ext docker-promote --from my-app:v1.0.0 --to my-app-prod:v1.0.0 --destination-region eu-west-1

The image (an index with every platform manifest it lists, or one manifest) is copied by digest
(``docker buildx imagetools create``): its bytes, and so its digest, are unchanged, and the destination
ECR repository records it like a push, so ``${ecr_image}`` in the target environment pins exactly what
was tested. Modules: :mod:`.args` (args and result), :mod:`.plan` (the decisions), :mod:`.hook` (the body).
"""

from runway_ext.hooks.docker_promote.args import DockerPromoteArgs, DockerPromoteResult
from runway_ext.hooks.docker_promote.hook import COMMAND, cfngin_hook

__all__ = ["COMMAND", "DockerPromoteArgs", "DockerPromoteResult", "cfngin_hook"]
