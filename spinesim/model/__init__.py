"""Model layer: materials library, hardware, loads."""
