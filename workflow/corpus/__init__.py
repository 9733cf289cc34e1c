"""Corpus: from ``corpus/`` on disk to English segments.

- ``discover``: which files are sources and which are reference translations;
- ``ingest``: bytes to clean paragraphs, boilerplate marked (never dropped);
- ``screen``: documents that are not English, or duplicates of another;
- ``segment``: paragraphs to sentences with stable ids and text hashes;
- ``load``: all of the above for the whole corpus (``load_corpus``).
"""
