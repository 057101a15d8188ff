"""Test support shipped with the package: real services on loopback for your hook tests."""
