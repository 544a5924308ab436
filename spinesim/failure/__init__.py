"""Failure models: fatigue, loosening, healing."""
