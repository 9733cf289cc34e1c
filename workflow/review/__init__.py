"""Review: reviewers' fixes come back in, are kept forever and win over MT.

- ``parse``: reviewers' TSV and XLIFF files to candidate fixes (no DTDs, no entities);
- ``xlsx``: review workbooks (``<doc>.xlsx``) to the same review table;
- ``omegat``: an OmegaT project's saved memory to candidate fixes, tied to segments as OmegaT ties them;
- ``content``: what a fix's text must be (its language, size, characters);
- ``importer``: validation of every candidate, then one transaction into the memory;
- ``memory``: the approved fixes (and their history) in the store;
- ``apply``: a run's rows with the fixes applied, stale fixes offered as fuzzy matches;
- ``serve``: ``workflow review serve``, the run as an editable page, each save judged by ``importer``
  (its script and style in ``static/``).
"""
