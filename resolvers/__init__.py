"""Thin transport: from a request's context to the services, and DataLoaders for relations."""
