"""The static-site model shared by the static-site hooks."""
