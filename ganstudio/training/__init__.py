"""Training: the engine, its controls and events, checkpoints and run folders (no Qt)."""
