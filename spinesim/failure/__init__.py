"""Failure models: fatigue, loosening, healing, bridging, bone strained past yield."""
