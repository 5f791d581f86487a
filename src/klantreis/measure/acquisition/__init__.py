"""Acquisition: where customers came from (the model's `session_sources`), as a cut of other
analyses (`cuts.py`) and as an analysis of its own (`sources.py`)."""
