"""Deploy and delete AWS SAM applications from Runway with the real ``sam`` CLI, without prompts.

config.yml::

    pre_deploy:
      - path: runway_ext.hooks.sam_deploy.cfngin_hook
        args:
          template_file: sam-app/template.yaml
          stack_name: ${namespace}-api
          s3_bucket: ${cfngin_bucket}
          parameters:
            Environment: ${environment}
    post_destroy:
      - path: runway_ext.hooks.sam_deploy.cfngin_delete_hook
        args:
          stack_name: ${namespace}-api

Deploy runs ``sam build`` (unless ``skip_build``) and ``sam deploy`` with the Runway session's
credentials, in the deploy's region unless ``region`` names another, treats "no changes" as
success, and deletes a stack left unusable by a failed creation (``ROLLBACK_COMPLETE`` …) first
when ``delete_failed_stack`` is on. Its result (hook_data ``runway_ext.sam_deploy``) holds the
stack's status and Outputs. Delete (hook_data ``runway_ext.sam_delete``) runs
``sam delete --no-prompts``; ``retain_resources`` keeps resources of a ``DELETE_FAILED`` stack
through CloudFormation's ``DeleteStack``. CLI (region from ``AWS_REGION``/``AWS_DEFAULT_REGION``
or the profile unless ``--region``)::

    python -m runway_ext.hooks.sam_deploy deploy --template template.yaml --stack-name s --parameters Env=dev
    python -m runway_ext.hooks.sam_deploy delete --stack-name s --retain-resources MyS3Bucket

Modules: :mod:`.args` (arguments, results); pure decisions in :mod:`.plan` (the stack),
:mod:`.parameters`, :mod:`.commands` (sam's command lines and environment), :mod:`.skip_record`
(skipping an unchanged deploy), :mod:`.template` and :mod:`.fingerprint` (the inputs sam reads);
I/O in :mod:`.inputs` (local files), :mod:`.stack` (CloudFormation), :mod:`.sam_cli` (running sam);
:mod:`.hook` (the bodies).
"""

from runway_ext.hooks.sam_deploy.args import SamDeleteArgs, SamDeleteResult, SamDeployArgs, SamDeployResult
from runway_ext.hooks.sam_deploy.hook import COMMAND, cfngin_delete_hook, cfngin_hook

__all__ = [
    "COMMAND",
    "SamDeleteArgs",
    "SamDeleteResult",
    "SamDeployArgs",
    "SamDeployResult",
    "cfngin_delete_hook",
    "cfngin_hook",
]
