"""Sample quality and training health measures (no Qt)."""
