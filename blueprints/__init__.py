"""Troposphere blueprints for Runway's CFNgin: ``runway_ext.blueprints.cdn`` and ``runway_ext.blueprints.ecr``."""
