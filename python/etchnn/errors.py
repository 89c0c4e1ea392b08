"""The one exception type of the package: a message from the C library (file,
node, what was expected and what was seen) or from the Python layer."""


class EtchnnError(Exception):
    """An error reported by etchnn; str(e) is the full message."""

    def __init__(self, message, internal=False):
        super().__init__(message)
        self.internal = internal   # True when the C library hit an internal check (a bug)


class NotAvailableError(EtchnnError, NotImplementedError):
    """A step whose back end is not in this build of etchnn yet (verify, synth)."""


class EtchnnWarning(UserWarning):
    """Something odd that etchnn went on with (weights outside their type, a very
    large design); str(w) names what, where and how many."""
