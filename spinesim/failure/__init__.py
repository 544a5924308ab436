"""Failure models: fatigue, loosening, screw pullout, healing, bridging; checks of bone
strained past yield and of graft drainage."""
