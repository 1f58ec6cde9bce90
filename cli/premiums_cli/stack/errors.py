"""The one error the stack raises: a plain message a person can act on."""


class StackError(RuntimeError):
    """Starting, checking or stopping the local stack failed; the message says why and what to do."""
