"""Talking to a Starknet network through starknet-py: networks, accounts, deployments.

Everything here works the same against the embedded devnet, Sepolia or mainnet: it only uses
starknet-py's ``FullNodeClient`` and ``Account`` (plus ``devnet_*`` methods where the network
is a devnet), so code tested locally runs unchanged on a real network.
"""
