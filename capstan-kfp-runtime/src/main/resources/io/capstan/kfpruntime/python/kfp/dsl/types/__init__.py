"""Artifact classes and type annotations of the KFP component runtime."""
