"""Sync: the watcher, the background daemon and the one-writer lock that keep the index fresh."""
