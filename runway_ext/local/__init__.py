"""Local mode: deploy a Runway project against an in-process moto server, with no AWS account."""
