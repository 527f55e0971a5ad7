"""`depeche bench`: speed and memory at several corpus sizes, in one run (see command.py)."""
