"""The translation stage: English sentences in, cached translations with a confidence out.

It owns finding models, loading them into an engine, and the translation cache; it is
given only :class:`~workflow.core.config.TranslationSettings` (``config.translation``).

- :mod:`~workflow.translation.hub`: find a model (hub id or local folder), never loading it;
- :mod:`~workflow.translation.families`: each model family's target-language quirks;
- :mod:`~workflow.translation.engines`: the engines (transformers, CTranslate2) behind one interface;
- :mod:`~workflow.translation.subwords`: torch-free tokenizers for the CTranslate2 engine;
- :mod:`~workflow.translation.cache`: translate through the store, loading a model only for what is missing;
- :mod:`~workflow.translation.paragraphs`: paragraph mode, aligned back to sentences.
"""
