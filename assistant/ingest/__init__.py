"""Ingest: scan folders -> read documents -> chunk -> embed -> store (indexing.Indexer drives it)."""
