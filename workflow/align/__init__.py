"""Align: sentence alignment of English with Belarusian or Russian text.

- ``aligner``: the N:M sentence aligner (Gale-Church lengths, anchors, optional MT bridge)
  and paragraph mode's spreading of a translated paragraph over its English sentences;
- ``files``: ``workflow align`` on two files (reading, splitting, output formats);
- ``translit``: names across scripts (Lukashenko / Лукашэнка);
- ``references``: reference translations of a document aligned to its segments.
"""
