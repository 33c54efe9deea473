"""The notifier's errors: one base class, so the CLI reports any of them as one line."""

from __future__ import annotations


class NotifierError(Exception):
    """Base of every error the notifier raises on purpose."""


class ConfigFileError(NotifierError):
    """The registrations file is unreadable, malformed, or names an unset secret variable."""


class RegistrationError(NotifierError):
    """A registration that cannot be stored: a bad URL, address or task id, or an unknown id."""


class StreamError(NotifierError):
    """The API refused the stream for good (a 4xx other than 429): retrying cannot help."""


class StoreError(NotifierError):
    """The store file cannot be used (a newer schema than this notifier knows)."""
