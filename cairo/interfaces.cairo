//! Interfaces and shared types of the Smainer contracts.
//!
//! Each `#[starknet::interface]` below also generates a `<Name>Dispatcher` (and
//! `<Name>DispatcherTrait`) that other contracts use to call it. The protocol these
//! interfaces implement is described in docs/protocol.md.

use array::ArrayTrait;
use serde::Serde;
use starknet::{ContractAddress, ClassHash};

// ---------------------------------------------------------------------------------------------
// Token
// ---------------------------------------------------------------------------------------------

/// ERC-20 (snake_case, as in SNIP-2).
#[starknet::interface]
trait IERC20<TContractState> {
    /// Token name, a short string (felt252).
    fn name(self: @TContractState) -> felt252;
    /// Token symbol, a short string (felt252).
    fn symbol(self: @TContractState) -> felt252;
    /// Number of decimals of the token's display unit.
    fn decimals(self: @TContractState) -> u8;
    /// Total amount of tokens in existence.
    fn total_supply(self: @TContractState) -> u256;
    /// Token balance of `account`.
    fn balance_of(self: @TContractState, account: ContractAddress) -> u256;
    /// Amount `spender` may still move out of `owner`'s balance with `transfer_from`.
    fn allowance(self: @TContractState, owner: ContractAddress, spender: ContractAddress) -> u256;
    /// Moves `amount` from the caller to `recipient`; returns true (reverts on failure).
    fn transfer(ref self: TContractState, recipient: ContractAddress, amount: u256) -> bool;
    /// Moves `amount` from `sender` to `recipient` using the caller's allowance; returns true.
    /// An allowance of 2**256 - 1 is infinite and is not decremented.
    fn transfer_from(
        ref self: TContractState, sender: ContractAddress, recipient: ContractAddress, amount: u256
    ) -> bool;
    /// Sets the caller's allowance for `spender` to `amount`; returns true.
    fn approve(ref self: TContractState, spender: ContractAddress, amount: u256) -> bool;
}

/// camelCase aliases of ERC-20 that wallets and older tooling call.
#[starknet::interface]
trait IERC20Camel<TContractState> {
    /// Same as `total_supply`.
    fn totalSupply(self: @TContractState) -> u256;
    /// Same as `balance_of`.
    fn balanceOf(self: @TContractState, account: ContractAddress) -> u256;
    /// Same as `transfer_from`.
    fn transferFrom(
        ref self: TContractState, sender: ContractAddress, recipient: ContractAddress, amount: u256
    ) -> bool;
}

/// Owner-controlled minting of the Smainer token.
#[starknet::interface]
trait IMintable<TContractState> {
    /// Creates `amount` new tokens for `recipient`. Owner only.
    fn mint(ref self: TContractState, recipient: ContractAddress, amount: u256);
    /// The address allowed to mint (zero: nobody).
    fn owner(self: @TContractState) -> ContractAddress;
}

// ---------------------------------------------------------------------------------------------
// Account (SNIP-6)
// ---------------------------------------------------------------------------------------------

/// One call of a multicall, serialized as `[to, selector, calldata_len, calldata...]`.
///
/// Our own type because `starknet::account::Call` differs between Cairo 2.1 (Array calldata)
/// and later versions (Span calldata); both serialize the same way.
#[derive(Drop, Serde)]
struct Call {
    to: ContractAddress,
    selector: felt252,
    calldata: Array<felt252>,
}

/// SNIP-6 account (SRC6) with SRC5 introspection and a single Stark-curve key.
#[starknet::interface]
trait IAccount<TContractState> {
    /// Checks the transaction signature; returns 'VALID' or reverts with 'INVALID_SIGNATURE'.
    fn __validate__(self: @TContractState, calls: Array<Call>) -> felt252;
    /// Runs each call in order (protocol only) and returns their return data.
    fn __execute__(ref self: TContractState, calls: Array<Call>) -> Array<Span<felt252>>;
    /// Checks the signature of a declare transaction; returns 'VALID'.
    fn __validate_declare__(self: @TContractState, class_hash: felt252) -> felt252;
    /// Checks the signature of the deploy_account transaction that deploys this account.
    fn __validate_deploy__(
        self: @TContractState, class_hash: felt252, contract_address_salt: felt252, public_key: felt252
    ) -> felt252;
    /// Returns 'VALID' when `signature` is `[r, s]` by the account key over `hash`, else 0.
    fn is_valid_signature(self: @TContractState, hash: felt252, signature: Array<felt252>) -> felt252;
    /// camelCase alias of `is_valid_signature`.
    fn isValidSignature(self: @TContractState, hash: felt252, signature: Array<felt252>) -> felt252;
    /// SRC5: true for the SRC6 and SRC5 interface ids.
    fn supports_interface(self: @TContractState, interface_id: felt252) -> bool;
    /// The Stark public key that signs for this account.
    fn get_public_key(self: @TContractState) -> felt252;
    /// Rotates the signing key. Only the account itself may call it (through `__execute__`).
    fn set_public_key(ref self: TContractState, new_public_key: felt252);
}

// ---------------------------------------------------------------------------------------------
// Escrow
// ---------------------------------------------------------------------------------------------

/// What a node must offer to be assigned a task.
#[derive(Copy, Drop, Serde, starknet::Store)]
struct Requirements {
    /// Lowest node tier accepted (1..=5; 0 accepts any tier).
    min_tier: u8,
    /// Whether the node must have a GPU.
    gpu_required: bool,
    /// Minimum CPU threads.
    cpu_threads: u16,
    /// Minimum RAM in GB.
    ram_gb: u16,
    /// Seconds the node has after assignment to submit the result (> 0).
    max_execution_time: u64,
}

/// A task as returned by `get_task`. Status: 1 Open, 2 Assigned, 3 Completed, 4 Cancelled,
/// 5 Expired. Timestamps are block timestamps (0 while not reached). `fees` is the split fixed
/// when the task was created, the one its claim pays by.
#[derive(Copy, Drop, Serde)]
struct Task {
    id: u64,
    creator: ContractAddress,
    kind: felt252,
    payload_hash: felt252,
    requirements: Requirements,
    amount: u256,
    fees: FeeConfig,
    status: u8,
    node: ContractAddress,
    created_at: u64,
    assigned_at: u64,
    deadline: u64,
    completed_at: u64,
    result_hash: felt252,
}

/// A compute provider as returned by `get_node`. Status: 0 unregistered, 1 Active,
/// 2 Inactive, 3 Suspended.
#[derive(Copy, Drop, Serde)]
struct Node {
    tier: u8,
    gpu: bool,
    cpu_threads: u16,
    ram_gb: u16,
    status: u8,
    registered_at: u64,
    last_heartbeat: u64,
    completed_tasks: u64,
    failed_tasks: u64,
    earnings: u256,
}

/// How a task's amount is split on completion, in basis points summing to 10000.
#[derive(Copy, Drop, Serde, starknet::Store)]
struct FeeConfig {
    provider_bps: u16,
    gas_bps: u16,
    treasury_bps: u16,
}

/// The compute marketplace: tasks paid in escrow, nodes that run them, a scheduler that
/// assigns them, and the owner's administration.
#[starknet::interface]
trait IEscrow<TContractState> {
    // --- tasks ---
    /// Opens a task paid with `amount` of the payment token, pulled from the caller with
    /// `transfer_from` (approve the escrow first). `payload` is length-prefixed UTF-8: the
    /// byte length, then ceil(len / 31) felts of 31 big-endian bytes. The current fee split
    /// becomes the task's own; `max_execution_time` may not exceed `max_execution_time()`.
    /// Returns the task id.
    fn create_task(
        ref self: TContractState,
        kind: felt252,
        payload: Array<felt252>,
        requirements: Requirements,
        amount: u256
    ) -> u64;
    /// Cancels an Open task of the caller and refunds its amount.
    fn cancel_task(ref self: TContractState, task_id: u64);
    /// Scheduler only: assigns an Open task to an Active node that meets its requirements.
    fn assign_task(ref self: TContractState, task_id: u64, node: ContractAddress);
    /// The assigned node submits the result before the deadline and is paid; `result_hash`
    /// must be the Poseidon hash of `result`.
    fn submit_proof_and_claim(
        ref self: TContractState, task_id: u64, result_hash: felt252, result: Array<felt252>
    );
    /// Anyone: refunds the creator of an Assigned task whose deadline has passed.
    fn reclaim_expired(ref self: TContractState, task_id: u64);

    // --- nodes ---
    /// Registers the caller as an Active node, or updates its capabilities.
    fn register_node(ref self: TContractState, tier: u8, gpu: bool, cpu_threads: u16, ram_gb: u16);
    /// An Active node stops taking new tasks (becomes Inactive).
    fn deactivate_node(ref self: TContractState);
    /// A registered, non-suspended node records that it is alive.
    fn heartbeat(ref self: TContractState);
    /// Owner only: suspends a registered node.
    fn suspend_node(ref self: TContractState, node: ContractAddress);
    /// Owner only: gives a Suspended node back the status it had when suspended.
    fn reinstate_node(ref self: TContractState, node: ContractAddress);

    // --- administration (owner only) ---
    /// Sets the address allowed to assign tasks.
    fn set_scheduler(ref self: TContractState, new_scheduler: ContractAddress);
    /// Sets the receiver of the treasury share.
    fn set_treasury(ref self: TContractState, new_treasury: ContractAddress);
    /// Sets the receiver of the gas share.
    fn set_gas_recipient(ref self: TContractState, new_gas_recipient: ContractAddress);
    /// Sets the fee split of tasks created from now on; the three parts must sum to 10000
    /// within the caps. Existing tasks keep the split they were created with.
    fn set_fee_config(ref self: TContractState, provider_bps: u16, gas_bps: u16, treasury_bps: u16);
    /// Sets the longest `max_execution_time` new tasks may ask for (1 s ..= 365 days).
    fn set_max_execution_time(ref self: TContractState, seconds: u64);
    /// Sends `amount` of `token` held by the escrow to `to`. For the payment token only what
    /// exceeds `escrowed_amount()` can be moved, so escrowed money is never touched.
    fn rescue_tokens(
        ref self: TContractState, token: ContractAddress, to: ContractAddress, amount: u256
    );
    /// Stops task creation and assignment (claims, refunds and expiries still work).
    fn pause(ref self: TContractState);
    /// Lifts a pause.
    fn unpause(ref self: TContractState);
    /// Starts a two-step ownership transfer (zero cancels a pending one).
    fn transfer_ownership(ref self: TContractState, new_owner: ContractAddress);
    /// The pending owner takes ownership.
    fn accept_ownership(ref self: TContractState);
    /// Replaces the contract's class (storage is kept).
    fn upgrade(ref self: TContractState, new_class_hash: ClassHash);

    // --- views ---
    /// The task `task_id`; reverts with 'TASK_NOT_FOUND' for an unknown id.
    fn get_task(self: @TContractState, task_id: u64) -> Task;
    /// Number of tasks created so far (the highest task id).
    fn get_task_count(self: @TContractState) -> u64;
    /// Ids of the tasks `user` created, oldest first, from `offset`, at most
    /// min(limit, 100) of them; empty past the end.
    fn get_user_tasks(
        self: @TContractState, user: ContractAddress, offset: u64, limit: u64
    ) -> Array<u64>;
    /// Number of tasks `user` created.
    fn get_user_task_count(self: @TContractState, user: ContractAddress) -> u64;
    /// Total provider shares paid to `provider` (a node).
    fn get_user_earnings(self: @TContractState, provider: ContractAddress) -> u256;
    /// The node record of `node` (all zero when unregistered).
    fn get_node(self: @TContractState, node: ContractAddress) -> Node;
    /// The status of `node`: 0 unregistered, 1 Active, 2 Inactive, 3 Suspended.
    fn get_node_status(self: @TContractState, node: ContractAddress) -> u8;
    /// The fee split new tasks get.
    fn get_fee_config(self: @TContractState) -> FeeConfig;
    /// The longest `max_execution_time` a new task may ask for, in seconds.
    fn max_execution_time(self: @TContractState) -> u64;
    /// The sum of the amounts of Open and Assigned tasks: what the escrow owes.
    fn escrowed_amount(self: @TContractState) -> u256;
    /// The owner (administrator).
    fn owner(self: @TContractState) -> ContractAddress;
    /// The address that may accept ownership (zero: none).
    fn pending_owner(self: @TContractState) -> ContractAddress;
    /// The address allowed to assign tasks.
    fn scheduler(self: @TContractState) -> ContractAddress;
    /// The receiver of the treasury share.
    fn treasury(self: @TContractState) -> ContractAddress;
    /// The receiver of the gas share.
    fn gas_recipient(self: @TContractState) -> ContractAddress;
    /// The ERC-20 token tasks are paid in.
    fn payment_token(self: @TContractState) -> ContractAddress;
    /// Whether task creation and assignment are paused.
    fn is_paused(self: @TContractState) -> bool;
}

// ---------------------------------------------------------------------------------------------
// Universal Deployer
// ---------------------------------------------------------------------------------------------

/// Universal Deployer Contract (OpenZeppelin UDC semantics): deploys any declared class for
/// callers that cannot run `deploy_syscall` themselves, such as accounts.
#[starknet::interface]
trait IUniversalDeployer<TContractState> {
    /// Deploys `class_hash` with constructor `calldata` and returns the new address. With
    /// `not_from_zero` the salt becomes `pedersen(caller, salt)` and the UDC is the deployer
    /// of record; without it the address depends on `salt` alone (deployed "from zero").
    fn deploy_contract(
        ref self: TContractState,
        class_hash: ClassHash,
        salt: felt252,
        not_from_zero: bool,
        calldata: Array<felt252>
    ) -> ContractAddress;
    /// camelCase alias of `deploy_contract` (what starknet-py's `Deployer` calls).
    fn deployContract(
        ref self: TContractState,
        class_hash: ClassHash,
        salt: felt252,
        not_from_zero: bool,
        calldata: Array<felt252>
    ) -> ContractAddress;
}

// ---------------------------------------------------------------------------------------------
// Counter
// ---------------------------------------------------------------------------------------------

/// A counter anyone may increase: the smallest useful invoke, for measuring a node's cost per
/// transaction (scripts/bench_devnet.py) and as a first contract to deploy on the devnet.
#[starknet::interface]
trait ICounter<TContractState> {
    /// Adds `amount` to the value and emits `Increased`; reverts on u128 overflow.
    fn increase(ref self: TContractState, amount: u128);
    /// The current value (zero when deployed).
    fn get(self: @TContractState) -> u128;
}
