"""Thin Litestar read API and dashboard over the index (planned)."""
