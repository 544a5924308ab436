"""Failure models: fatigue, loosening, healing, bridging; checks of bone strained past yield
and of graft drainage."""
