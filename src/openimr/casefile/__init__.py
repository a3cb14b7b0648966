"""The case file as it arrives: bound PDFs (text layer or scanned), multi-page TIFF faxes and
PNG/JPEG pages, read page by page in a bounded worker (OCR with Tesseract only where a page has
no usable text layer), split into documents, typed, dated, attributed, deduplicated, and read
into a chronology and a drafted clinical case summary. See docs/casefile.md."""
