"""Engines: the libraries that decode, behind one interface.

- :mod:`~workflow.translation.engines.base`: :class:`Engine`, what every engine shares
  (batching, splitting too-long sources and joining them, confidence, device choice);
- :mod:`~workflow.translation.engines.transformers`: the reference engine;
- :mod:`~workflow.translation.engines.ctranslate2`: the fast path (the default).

:data:`ENGINES` names each engine's module and class, as sacrebleu's tokenizer table
does; :func:`engine_class` imports the module only when that engine is asked for, so a
run never imports a library it does not use, and a missing library is a
:class:`ConfigError`. The table is the registry: adding an engine means writing its
module and adding one line here.
"""

from __future__ import annotations

import importlib

from workflow.core.config import TranslationSettings
from workflow.core.errors import ConfigError
from workflow.translation.engines.base import Engine
from workflow.translation.hub import ResolvedModel

# engine setting -> (module, class)
ENGINES: dict[str, tuple[str, str]] = {
    "transformers": ("workflow.translation.engines.transformers", "TransformersEngine"),
    "ctranslate2": ("workflow.translation.engines.ctranslate2", "CT2Engine"),
}


def engine_class(name: str) -> type[Engine]:
    """The engine class configured as ``engine = name``, its module imported now."""
    try:
        module, cls = ENGINES[name]
    except KeyError:
        raise ConfigError(f"engine {name!r} is not available", hint=f"Known engines: {', '.join(ENGINES)}.") from None
    try:
        return getattr(importlib.import_module(module), cls)
    except ImportError as e:
        if (e.name or "").startswith("workflow."):  # our own module is missing: a bug, not a package to install
            raise
        alternative = ', or set engine = "transformers"' if name != "transformers" else ""
        raise ConfigError(f"engine {name!r} is not installed ({e})", hint=f"pip install {name}{alternative}.") from None


def load_engine(model: ResolvedModel, settings: TranslationSettings) -> Engine:
    """``model`` loaded by the configured engine."""
    return engine_class(settings.engine)(model, settings)
