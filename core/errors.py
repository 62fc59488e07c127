"""The project's own error types: expected failures that the command line reports in one line."""


class ProjectError(RuntimeError):
    """Base of every expected error; its message names the file or parameter and the fix."""


class DataError(ProjectError):
    """A dataset file is missing, corrupt or does not match its pinned checksum."""


class ConfigError(ProjectError, ValueError):
    """A parameter is out of range, alone or for the data it is applied to."""


class CacheError(ProjectError):
    """A cached artifact is missing or unreadable; the message says what to delete."""


class CorrectionsError(ProjectError):
    """A label corrections log or file that cannot be read as one; the message names the row and the fix."""
