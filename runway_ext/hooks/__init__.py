"""The hooks: one module each, each usable from CFNgin config.yml and as ``python -m runway_ext.hooks.<name>``."""
