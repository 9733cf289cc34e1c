"""Belarusian-specific helpers of the scoring stage, used by the checks: Apertium bel<->rus
(``apertium``) and the two written norms (``orthography``). Nothing here imports a check."""
