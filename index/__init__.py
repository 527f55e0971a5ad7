"""Chunking, embedding, the vector and lexical indexes, the on-disk index and search over it."""
