"""Expectations: what a shop promises, measured against what customers got, phase by phase."""
