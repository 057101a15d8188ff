"""Build a Docker image with BuildKit and push it to ECR — or skip both when ECR already has this build.

config.yml::

    pre_deploy:
      - path: runway_ext.hooks.docker_build_push.cfngin_hook
        args:
          repository_name: my-app-repo
          image_tag: v1.0.0
          dockerfile_path: docker/Dockerfile
          working_directory: ../application

Then ``${hook_data runway_ext.docker_build_push.digest_uri}`` (or ``${ecr_image my-app-repo::tag=v1.0.0}``)
is the image pinned by digest, ready for a Lambda ``ImageUri`` or an ECS task. CLI::

    python -m runway_ext.hooks.docker_build_push my-app-repo --image-tag v1.0.0 \\
        --dockerfile-path docker/Dockerfile --build-context . --region us-west-2 \\
        --environment prod --working-directory ../application

The build's content hash (context files as the ignore file filters them, Dockerfile, build args,
target, platform) becomes an extra ``content-…`` tag. When ECR already has an image with that tag,
nothing is built or pushed: the requested tags are added to that image's manifest (ECR ``PutImage``)
and the result says ``skipped: true``.

Modules: :mod:`.args` (args and result models), :mod:`.plan` (the decisions), :mod:`.context_hash`
(the build's content hash), :mod:`.docker_cli`, :mod:`.ecr` and :mod:`.registry` (the I/O),
:mod:`.hook` (the body).
"""

from runway_ext.hooks.docker_build_push.args import DockerBuildPushArgs, DockerBuildPushResult
from runway_ext.hooks.docker_build_push.hook import COMMAND, cfngin_hook

__all__ = ["COMMAND", "DockerBuildPushArgs", "DockerBuildPushResult", "cfngin_hook"]
