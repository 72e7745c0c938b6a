"""Errors a person can act on. Their message is one complete sentence; the CLI prints it without a
traceback and the GUI shows it in a dialog."""


class UserError(Exception):
    """Base of every error caused by input (arguments, data, files) rather than by a bug."""


class ConfigError(UserError, ValueError):
    """A configuration value is invalid."""


class DataError(UserError):
    """A data set cannot be loaded."""


class CheckpointError(UserError):
    """A checkpoint is missing, damaged, unsafe or does not fit the model."""


class RunError(UserError):
    """A run folder is missing or incomplete."""
