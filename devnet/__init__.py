"""Embedded local Starknet speaking JSON-RPC 0.10.2, built on :mod:`smainer.engine`."""
