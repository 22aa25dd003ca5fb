"""The one exception type a user can cause: a wrong path, a broken file, a missing asset."""


class UserError(Exception):
    """Something the user can fix; the message is one sentence that says how."""
