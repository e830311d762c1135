"""The project's one exception family, rooted at :class:`DiffairError`.

It lives in ``dsp`` because ``dsp`` is the package every other one may import
without pulling heavy dependencies (numpy only).
"""


class DiffairError(Exception):
    """Base of every error diffair raises on purpose."""


class ConfigError(DiffairError, ValueError):
    """A configuration value is unknown, missing or out of range."""


class SignalError(DiffairError, ValueError):
    """Samples or symbols handed to a block are malformed (dtype, shape, NaN/Inf)."""


class SyncError(DiffairError):
    """Acquisition failed: no frame, or a frame that could not be synchronized."""


class RadioError(DiffairError):
    """A radio could not be opened, configured or streamed from."""


class ModelError(DiffairError):
    """Weights or a model config are missing, corrupt or inconsistent."""


class ExportError(DiffairError):
    """An exported graph or engine is missing, corrupt or incompatible."""
