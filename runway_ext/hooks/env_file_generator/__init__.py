"""Write a ``.env`` file from CFNgin variables (stack outputs, SSM parameters, plain values).

config.yml::

    pre_deploy:
      - path: runway_ext.hooks.env_file_generator.cfngin_hook
        args:
          output_file: app/.env.local
          variables:
            API_URL: ${cfn ${namespace}-api.Url}
            DB_PASSWORD: ${ssm /app/db/password}
          overwrite: true

Lookups in ``variables`` are resolved by Runway before the hook runs. The file is written
atomically with mode 0600, in a quoting python-dotenv and docker compose both read back exactly;
an existing file is only replaced with ``overwrite`` (after a backup), and not at all when its
variables are unchanged. The result is stored in hook_data as ``runway_ext.env_file_generator``. CLI::

    python -m runway_ext.hooks.env_file_generator --output-file .env.local --variables K=V K2=V2

Modules: :mod:`.args` (arguments and result), :mod:`.dotenv_format` (quoting, pure),
:mod:`.plan` (what to do, pure), :mod:`.env_file` (reading and writing the file), :mod:`.hook`.
"""

from runway_ext.hooks.env_file_generator.args import EnvFileArgs, EnvFileResult
from runway_ext.hooks.env_file_generator.hook import COMMAND, cfngin_hook

__all__ = ["COMMAND", "EnvFileArgs", "EnvFileResult", "cfngin_hook"]
