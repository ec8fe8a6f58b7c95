"""Search: keywords (FTS5) + vectors -> fusion -> the relevance gate (calibrated per library)."""
