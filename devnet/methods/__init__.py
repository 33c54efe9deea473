"""JSON-RPC handlers: ``starknet_*`` (the spec) and ``devnet_*`` (starknet-devnet's extras)."""
