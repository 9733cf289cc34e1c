"""Testing: tiny random-weight models with the interfaces of the real ones (``tinymodels``), built once per recipe into a disk cache (``cache``)."""
