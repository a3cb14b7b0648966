"""OCR of one page image: deskew (a projection profile), rotation (Tesseract's OSD, asked
only when the upright reading is poor), and Tesseract through tesserocr, with the page's mean
word confidence. Runs inside the bounded worker (`openimr.casefile.worker`)."""

from __future__ import annotations

import os

# Tesseract's own threads would make per-core figures meaningless and fight the other workers.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")

MIN_CONFIDENCE = 60.0  # below this mean word confidence the page is tried turned (OSD)
TARGET_DPI = 300  # pages scanned coarser are enlarged to this before OCR


MODELS = {"eng": "English model (Debian: tesseract-ocr-eng)",
          "osd": "orientation model (Debian: tesseract-ocr-osd)"}


class MissingModel(RuntimeError):
    """A Tesseract language model that is not installed: `str()` names it and where it was
    looked for (not a memory or CPU limit)."""


def tessdata(lang: str = "eng") -> str:
    """The folder of Tesseract's model `lang`: $TESSDATA_PREFIX, else Debian's; MissingModel
    when the model's file is not there."""
    import glob

    if os.environ.get("TESSDATA_PREFIX"):
        folder = os.environ["TESSDATA_PREFIX"]
        where = f"{folder} (TESSDATA_PREFIX)"
    else:
        found = sorted(glob.glob(f"/usr/share/tesseract-ocr/*/tessdata/{lang}.traineddata"))
        folder = os.path.dirname(found[-1]) if found else "/usr/share/tesseract-ocr/*/tessdata"
        where = folder
    if not os.path.isfile(os.path.join(folder, f"{lang}.traineddata")):
        raise MissingModel(f"Tesseract's {MODELS.get(lang, lang + ' model')}, {lang}.traineddata, is not "
                           f"installed in {where}; make system-deps installs it")
    return folder


class Reader:
    """One Tesseract engine kept for the life of the worker (loading it costs ~0.1 s)."""

    def __init__(self):
        import tesserocr

        self._api = tesserocr.PyTessBaseAPI(path=tessdata("eng"), lang="eng", psm=tesserocr.PSM.AUTO)
        self._osd = None

    def close(self) -> None:
        self._api.End()
        if self._osd is not None:
            self._osd.End()

    def bare(self, image) -> str:
        """Tesseract alone, nothing before or after (the benchmark's yardstick)."""
        self._api.SetImage(image)
        return self._api.GetUTF8Text()

    def _read(self, image) -> tuple[str, float]:
        self._api.SetImage(image)
        text = self._api.GetUTF8Text()
        words = self._api.AllWordConfidences()
        return text, (sum(words) / len(words) if words else 0.0)

    def _orientation(self, image) -> int:
        """Degrees the page is turned clockwise, by Tesseract's orientation detection."""
        import tesserocr

        if self._osd is None:
            self._osd = tesserocr.PyTessBaseAPI(path=tessdata("osd"), lang="osd", psm=tesserocr.PSM.OSD_ONLY)
        self._osd.SetImage(image)
        found = self._osd.DetectOrientationScript()
        return int(found["orient_deg"]) if found else 0

    def page(self, image, dpi: float | None) -> dict:
        """{"text", "confidence", "rotation", "skew"} of one page image."""
        image = prepare(image, dpi)
        skew = skew_angle(image)
        if skew:
            image = image.rotate(skew, expand=True, fillcolor=255)
        text, confidence = self._read(image)
        rotation = 0
        if confidence < MIN_CONFIDENCE:
            turned = self._orientation(image)
            if turned:
                other, other_conf = self._read(image.rotate(turned, expand=True, fillcolor=255))
                if other_conf > confidence:
                    text, confidence, rotation = other, other_conf, turned
        return {"text": text, "confidence": round(confidence, 1), "rotation": rotation,
                "skew": round(skew, 2)}


def prepare(image, dpi: float | None):
    """Greyscale, enlarged to about TARGET_DPI when scanned coarser (faxes are 100-200 dpi)."""
    image = image.convert("L")
    if dpi and dpi < TARGET_DPI * 0.9:
        factor = TARGET_DPI / dpi
        image = image.resize((round(image.width * factor), round(image.height * factor)), 2)  # BILINEAR
    return image


def skew_angle(image, span: float = 5.0, step: float = 0.25) -> float:
    """The small rotation (degrees, counter-clockwise positive) that makes the text lines most
    horizontal: the angle whose row-ink profile has the greatest variance, searched on a
    reduced copy of the page, coarse then fine."""
    import numpy as np

    small = image.copy()
    small.thumbnail((600, 800))
    ink = small.point(lambda v: 255 if v < 128 else 0)  # text white on black, for rotate()

    def score(angle: float) -> float:
        rows = np.asarray(ink.rotate(angle, fillcolor=0), dtype=np.float32).sum(axis=1)
        return float(np.var(np.diff(rows)))

    coarse = max((a * 1.0 for a in range(-int(span), int(span) + 1)), key=score)
    fine = [coarse + step * k for k in range(-4, 5)]
    best = max(fine, key=score)
    return best if abs(best) >= 0.3 else 0.0
