"""This project's own hooks, written with runway_ext's kit (found through ``sys_path: ./`` in config.yml)."""
