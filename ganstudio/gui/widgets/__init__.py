"""Widgets of the main window; each knows its own piece and nothing of training threads."""
