"""Streams Starknet events into DuckDB, resumable and reorg-safe (planned)."""
