"""How the shipped weights are made: the reader's training (`python -m training.reader`, or on a
lent GPU `python -m training.packed`), its data and its scoring. Reads ../shared/data; nothing of it
is copied into the project."""
