"""The one error a reader raises: names the file and the reason, in one line."""


class LetterError(ValueError):
    """A letter could not be read. `str()` is one line: `<file>: <reason>`."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        self.reason = " ".join(reason.split())
        super().__init__(f"{name}: {self.reason}")
