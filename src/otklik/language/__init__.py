"""Language, with the database: the model registry, the rubricator versions an admin edits,
training from stored labels and the language CLI (``otklik train | enrich | models |
taxonomy``). The pure stages they drive are :mod:`otklik.nlp`."""
