"""Training entry points (``diffair train``): one module per model, sharing the epoch loop
of ``loop``. The networks they train live one level up, in ``diffair.models``."""
