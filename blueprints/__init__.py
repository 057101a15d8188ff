"""Troposphere blueprints for Runway's CFNgin: ``blueprints.cdn`` and ``blueprints.ecr``."""
