"""The model: persons, sessions, journeys and phases, derived from stored events."""

from klantreis.model.build import ModelSummary, build, ensure_built
from klantreis.model.definition import JourneyDefinition, load_definition

__all__ = ["JourneyDefinition", "ModelSummary", "build", "ensure_built", "load_definition"]
