"""The one exception type a user can cause while building a dataset."""


class SourceError(Exception):
    """A source path or file is wrong; the message says what to pass instead."""
