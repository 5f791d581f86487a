"""Personas: groups of persons found from behaviour (discovery) or defined by rules (YAML)."""

from klantreis.measure.personas.discovery import Discovery, DiscoveryError, assign_new, discover

__all__ = ["Discovery", "DiscoveryError", "assign_new", "discover"]
