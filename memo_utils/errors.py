"""Errors that a reader should see as one clear line, not a traceback to decode."""

AFFECTS_RESULTS = False  # memo_utils.framework.fingerprints leaves this module out of the code fingerprints


class ConfigError(ValueError):
    """A parameter has a value that is not allowed; the message names it and what is."""


class DataUnavailableError(RuntimeError):
    """The data a profile needs is not on this machine; the message says how to provide it."""


class ResultsUnwritableError(RuntimeError):
    """The results folder cannot be written; the message says where any computed arrays were kept."""


class InsufficientMemoryError(RuntimeError):
    """A cell would need more memory than its device has free; the message gives the estimate and what to lower."""


ONE_LINE = (
    ConfigError,
    DataUnavailableError,
    ResultsUnwritableError,
    InsufficientMemoryError,
)  # shown as their message, never a traceback
