"""Reader of a layout with no real sample yet (being written)."""

from openimr.letters.read.errors import LetterError
from openimr.models import Letter


def detect(text: str) -> bool:
    return False


def parse(text: str, name: str) -> Letter:
    raise LetterError(name, "this layout's reader is not written yet")
