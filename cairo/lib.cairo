//! Smainer: Starknet contracts of the on-chain compute marketplace.
//!
//! Written in the Cairo dialect accepted by both Cairo 2.1.0 (the pinned compiler of the
//! local devnet) and Cairo 2.12 (what Scarb users build with). See docs/protocol.md.

mod interfaces;
mod token;
mod account;
mod escrow;
mod udc;
mod counter;
