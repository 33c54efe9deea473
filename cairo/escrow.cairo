//! Smainer escrow: the compute marketplace.
//!
//! Creators lock a payment in a task; the scheduler assigns it to a node that meets its
//! requirements; the node submits the result before the deadline and is paid, the amount
//! being split between the node, the gas recipient and the treasury. Unassigned tasks can be
//! cancelled, and assigned tasks whose deadline passed are refunded. State machines, fee
//! arithmetic, events, revert reasons and the trust model: docs/protocol.md.
//!
//! Two rules hold in every function that moves tokens: all storage effects and the event are
//! done before the token is called, and a reentrancy guard refuses any nested entry, so the
//! event log replays into exactly the state the views show.

#[starknet::contract]
mod Escrow {
    use array::{ArrayTrait, SpanTrait};
    use box::BoxTrait;
    use option::OptionTrait;
    use traits::{Into, TryInto};
    use zeroable::Zeroable;
    use poseidon::poseidon_hash_span;
    use starknet::{
        ContractAddress, ClassHash, get_caller_address, get_contract_address, get_block_timestamp,
        get_execution_info, replace_class_syscall
    };
    use super::super::interfaces::{
        IEscrow, Requirements, Task, Node, FeeConfig, IERC20Dispatcher, IERC20DispatcherTrait
    };

    /// Revert reasons.
    mod Errors {
        // tasks
        const PAUSED: felt252 = 'PAUSED';
        const ZERO_AMOUNT: felt252 = 'ZERO_AMOUNT';
        const INVALID_EXECUTION_TIME: felt252 = 'INVALID_EXECUTION_TIME';
        const EXECUTION_TIME_TOO_LONG: felt252 = 'EXECUTION_TIME_TOO_LONG';
        const INVALID_TIER: felt252 = 'INVALID_TIER';
        const INVALID_PAYLOAD: felt252 = 'INVALID_PAYLOAD';
        const TRANSFER_FAILED: felt252 = 'TRANSFER_FAILED';
        const TASK_NOT_FOUND: felt252 = 'TASK_NOT_FOUND';
        const NOT_TASK_CREATOR: felt252 = 'NOT_TASK_CREATOR';
        const TASK_NOT_OPEN: felt252 = 'TASK_NOT_OPEN';
        const NOT_SCHEDULER: felt252 = 'NOT_SCHEDULER';
        const NODE_TIER_TOO_LOW: felt252 = 'NODE_TIER_TOO_LOW';
        const GPU_REQUIRED: felt252 = 'GPU_REQUIRED';
        const NOT_ENOUGH_CPU: felt252 = 'NOT_ENOUGH_CPU';
        const NOT_ENOUGH_RAM: felt252 = 'NOT_ENOUGH_RAM';
        const TASK_NOT_ASSIGNED: felt252 = 'TASK_NOT_ASSIGNED';
        const NOT_ASSIGNED_NODE: felt252 = 'NOT_ASSIGNED_NODE';
        const TASK_EXPIRED: felt252 = 'TASK_EXPIRED';
        const RESULT_TOO_LONG: felt252 = 'RESULT_TOO_LONG';
        const RESULT_HASH_MISMATCH: felt252 = 'RESULT_HASH_MISMATCH';
        const TASK_NOT_EXPIRED: felt252 = 'TASK_NOT_EXPIRED';
        // nodes
        const NODE_NOT_REGISTERED: felt252 = 'NODE_NOT_REGISTERED';
        const NODE_NOT_ACTIVE: felt252 = 'NODE_NOT_ACTIVE';
        const NODE_SUSPENDED: felt252 = 'NODE_SUSPENDED';
        const NODE_ALREADY_SUSPENDED: felt252 = 'NODE_ALREADY_SUSPENDED';
        const NODE_NOT_SUSPENDED: felt252 = 'NODE_NOT_SUSPENDED';
        // administration
        const NOT_OWNER: felt252 = 'NOT_OWNER';
        const NOT_PENDING_OWNER: felt252 = 'NOT_PENDING_OWNER';
        const ZERO_ADDRESS: felt252 = 'ZERO_ADDRESS';
        const ZERO_CLASS_HASH: felt252 = 'ZERO_CLASS_HASH';
        const INVALID_FEE_SPLIT: felt252 = 'INVALID_FEE_SPLIT';
        const TREASURY_FEE_TOO_HIGH: felt252 = 'TREASURY_FEE_TOO_HIGH';
        const GAS_FEE_TOO_HIGH: felt252 = 'GAS_FEE_TOO_HIGH';
        const ALREADY_PAUSED: felt252 = 'ALREADY_PAUSED';
        const NOT_PAUSED: felt252 = 'NOT_PAUSED';
        const SELF_ADDRESS: felt252 = 'SELF_ADDRESS';
        const RESCUE_EXCEEDS_SURPLUS: felt252 = 'RESCUE_EXCEEDS_SURPLUS';
        // guard
        const REENTRANT_CALL: felt252 = 'REENTRANT_CALL';
    }

    /// Basis points of a whole amount.
    const BPS_DENOMINATOR: u16 = 10000;
    /// Highest treasury share (20 %).
    const MAX_TREASURY_BPS: u16 = 2000;
    /// Highest gas share (10 %).
    const MAX_GAS_BPS: u16 = 1000;
    /// Most felts in a task payload, the byte-length prefix included.
    const MAX_PAYLOAD_FELTS: u32 = 256;
    /// Most felts in a submitted result.
    const MAX_RESULT_FELTS: u32 = 256;
    /// Most task ids `get_user_tasks` returns at once.
    const MAX_PAGE_SIZE: u64 = 100;
    /// Bytes packed in each payload felt after the length prefix.
    const BYTES_PER_FELT: u32 = 31;
    /// Node tiers are 1..=MAX_TIER.
    const MAX_TIER: u8 = 5;
    /// The owner's bound on a task's `max_execution_time` at deployment (7 days).
    const DEFAULT_MAX_EXECUTION_TIME: u64 = 604800;
    /// The highest bound the owner may set (365 days): every deadline stays a reachable time,
    /// so every Assigned task can end by `reclaim_expired`.
    const MAX_EXECUTION_TIME_CAP: u64 = 31536000;
    /// A task's fee terms are packed in one slot, 16 bits a share (see `pack_fees`).
    const FEE_SHIFT: u64 = 0x10000;

    // Task status.
    const TASK_NONE: u8 = 0;
    const TASK_OPEN: u8 = 1;
    const TASK_ASSIGNED: u8 = 2;
    const TASK_COMPLETED: u8 = 3;
    const TASK_CANCELLED: u8 = 4;
    const TASK_EXPIRED: u8 = 5;

    // Node status.
    const NODE_NONE: u8 = 0;
    const NODE_ACTIVE: u8 = 1;
    const NODE_INACTIVE: u8 = 2;
    const NODE_SUSPENDED: u8 = 3;

    /// What a node offers; written by `register_node` only.
    #[derive(Copy, Drop, starknet::Store)]
    struct NodeSpec {
        tier: u8,
        gpu: bool,
        cpu_threads: u16,
        ram_gb: u16,
    }

    // Tasks and nodes are kept field by field, grouped by when a field changes, so that each
    // transition reads and writes only the slots it needs; `get_task` / `get_node` assemble
    // the public structs. A task exists iff its status is not TASK_NONE.
    #[storage]
    struct Storage {
        owner: ContractAddress,
        pending_owner: ContractAddress,
        scheduler: ContractAddress,
        treasury: ContractAddress,
        gas_recipient: ContractAddress,
        payment_token: ContractAddress,
        fee_config: FeeConfig,
        max_execution_time: u64,
        paused: bool,
        entered: bool,
        task_count: u64,
        // sum of the amounts of Open and Assigned tasks
        escrowed: u256,
        // set once by create_task
        task_creator: LegacyMap<u64, ContractAddress>,
        task_kind: LegacyMap<u64, felt252>,
        task_payload_hash: LegacyMap<u64, felt252>,
        task_requirements: LegacyMap<u64, Requirements>,
        task_amount: LegacyMap<u64, u256>,
        task_fees: LegacyMap<u64, u64>,
        task_created_at: LegacyMap<u64, u64>,
        // lifecycle
        task_status: LegacyMap<u64, u8>,
        task_node: LegacyMap<u64, ContractAddress>,
        task_assigned_at: LegacyMap<u64, u64>,
        task_deadline: LegacyMap<u64, u64>,
        task_completed_at: LegacyMap<u64, u64>,
        task_result_hash: LegacyMap<u64, felt252>,
        // creator -> index -> task id
        user_task_count: LegacyMap<ContractAddress, u64>,
        user_tasks: LegacyMap<(ContractAddress, u64), u64>,
        // nodes
        node_status: LegacyMap<ContractAddress, u8>,
        // the status a Suspended node had when suspended, given back by reinstate_node
        node_status_before_suspension: LegacyMap<ContractAddress, u8>,
        node_spec: LegacyMap<ContractAddress, NodeSpec>,
        node_registered_at: LegacyMap<ContractAddress, u64>,
        node_last_heartbeat: LegacyMap<ContractAddress, u64>,
        node_completed_tasks: LegacyMap<ContractAddress, u64>,
        node_failed_tasks: LegacyMap<ContractAddress, u64>,
        node_earnings: LegacyMap<ContractAddress, u256>,
    }

    #[event]
    #[derive(Drop, starknet::Event)]
    enum Event {
        EscrowInitialized: EscrowInitialized,
        TaskCreated: TaskCreated,
        TaskCancelled: TaskCancelled,
        TaskAssigned: TaskAssigned,
        TaskCompleted: TaskCompleted,
        TaskExpired: TaskExpired,
        NodeRegistered: NodeRegistered,
        NodeDeactivated: NodeDeactivated,
        NodeHeartbeat: NodeHeartbeat,
        NodeSuspended: NodeSuspended,
        NodeReinstated: NodeReinstated,
        SchedulerUpdated: SchedulerUpdated,
        TreasuryUpdated: TreasuryUpdated,
        GasRecipientUpdated: GasRecipientUpdated,
        FeeConfigUpdated: FeeConfigUpdated,
        MaxExecutionTimeUpdated: MaxExecutionTimeUpdated,
        TokensRescued: TokensRescued,
        Paused: Paused,
        Unpaused: Unpaused,
        OwnershipTransferStarted: OwnershipTransferStarted,
        OwnershipTransferred: OwnershipTransferred,
        Upgraded: Upgraded,
    }

    /// Fires once, from the constructor, with every setting the escrow starts with; later
    /// changes each have their own event.
    #[derive(Drop, starknet::Event)]
    struct EscrowInitialized {
        #[key]
        owner: ContractAddress,
        #[key]
        payment_token: ContractAddress,
        scheduler: ContractAddress,
        treasury: ContractAddress,
        gas_recipient: ContractAddress,
        fees: FeeConfig,
        max_execution_time: u64,
    }

    /// Fires when `create_task` opens a task (status Open) and locks `amount`; `fees` is the
    /// split its claim will pay by.
    #[derive(Drop, starknet::Event)]
    struct TaskCreated {
        #[key]
        task_id: u64,
        #[key]
        creator: ContractAddress,
        kind: felt252,
        payload_hash: felt252,
        payload: Array<felt252>,
        requirements: Requirements,
        amount: u256,
        fees: FeeConfig,
        created_at: u64,
    }

    /// Fires when the creator cancels an Open task and `refund` goes back to them.
    #[derive(Drop, starknet::Event)]
    struct TaskCancelled {
        #[key]
        task_id: u64,
        #[key]
        creator: ContractAddress,
        refund: u256,
    }

    /// Fires when the scheduler assigns an Open task to `node` (status Assigned); the node
    /// must submit by `deadline` (inclusive).
    #[derive(Drop, starknet::Event)]
    struct TaskAssigned {
        #[key]
        task_id: u64,
        #[key]
        node: ContractAddress,
        #[key]
        creator: ContractAddress,
        assigned_at: u64,
        deadline: u64,
    }

    /// Fires when the assigned node submits its result in time and the amount is paid out
    /// (status Completed).
    #[derive(Drop, starknet::Event)]
    struct TaskCompleted {
        #[key]
        task_id: u64,
        #[key]
        node: ContractAddress,
        #[key]
        creator: ContractAddress,
        result_hash: felt252,
        result: Array<felt252>,
        provider_amount: u256,
        gas_amount: u256,
        treasury_amount: u256,
        completed_at: u64,
    }

    /// Fires when `reclaim_expired` refunds an Assigned task past its deadline (status
    /// Expired; the node's failed_tasks grows by one).
    #[derive(Drop, starknet::Event)]
    struct TaskExpired {
        #[key]
        task_id: u64,
        #[key]
        node: ContractAddress,
        #[key]
        creator: ContractAddress,
        refund: u256,
    }

    /// Fires when a node registers or updates its capabilities (status Active);
    /// `registered_at` is the time of its first registration.
    #[derive(Drop, starknet::Event)]
    struct NodeRegistered {
        #[key]
        node: ContractAddress,
        tier: u8,
        gpu: bool,
        cpu_threads: u16,
        ram_gb: u16,
        registered_at: u64,
    }

    /// Fires when an Active node deactivates itself (status Inactive).
    #[derive(Drop, starknet::Event)]
    struct NodeDeactivated {
        #[key]
        node: ContractAddress,
    }

    /// Fires on each heartbeat; `timestamp` becomes the node's last_heartbeat.
    #[derive(Drop, starknet::Event)]
    struct NodeHeartbeat {
        #[key]
        node: ContractAddress,
        timestamp: u64,
    }

    /// Fires when the owner suspends a node (status Suspended).
    #[derive(Drop, starknet::Event)]
    struct NodeSuspended {
        #[key]
        node: ContractAddress,
    }

    /// Fires when the owner reinstates a suspended node; `status` is the one it gets back
    /// (1 Active or 2 Inactive, as when it was suspended).
    #[derive(Drop, starknet::Event)]
    struct NodeReinstated {
        #[key]
        node: ContractAddress,
        status: u8,
    }

    /// Fires when the owner changes the scheduler.
    #[derive(Drop, starknet::Event)]
    struct SchedulerUpdated {
        #[key]
        old: ContractAddress,
        #[key]
        new: ContractAddress,
    }

    /// Fires when the owner changes the treasury.
    #[derive(Drop, starknet::Event)]
    struct TreasuryUpdated {
        #[key]
        old: ContractAddress,
        #[key]
        new: ContractAddress,
    }

    /// Fires when the owner changes the gas recipient.
    #[derive(Drop, starknet::Event)]
    struct GasRecipientUpdated {
        #[key]
        old: ContractAddress,
        #[key]
        new: ContractAddress,
    }

    /// Fires when the owner changes the fee split of new tasks.
    #[derive(Drop, starknet::Event)]
    struct FeeConfigUpdated {
        provider_bps: u16,
        gas_bps: u16,
        treasury_bps: u16,
    }

    /// Fires when the owner changes the longest execution time new tasks may ask for.
    #[derive(Drop, starknet::Event)]
    struct MaxExecutionTimeUpdated {
        old: u64,
        new: u64,
    }

    /// Fires when the owner moves tokens the escrow does not owe to anyone.
    #[derive(Drop, starknet::Event)]
    struct TokensRescued {
        #[key]
        token: ContractAddress,
        #[key]
        to: ContractAddress,
        amount: u256,
    }

    /// Fires when `account` (the owner) pauses task creation and assignment.
    #[derive(Drop, starknet::Event)]
    struct Paused {
        #[key]
        account: ContractAddress,
    }

    /// Fires when `account` (the owner) lifts the pause.
    #[derive(Drop, starknet::Event)]
    struct Unpaused {
        #[key]
        account: ContractAddress,
    }

    /// Fires when the owner names a pending owner (zero: a pending transfer is cancelled).
    #[derive(Drop, starknet::Event)]
    struct OwnershipTransferStarted {
        #[key]
        previous_owner: ContractAddress,
        #[key]
        new_owner: ContractAddress,
    }

    /// Fires when `accept_ownership` completes a transfer.
    #[derive(Drop, starknet::Event)]
    struct OwnershipTransferred {
        #[key]
        previous_owner: ContractAddress,
        #[key]
        new_owner: ContractAddress,
    }

    /// Fires when the owner replaces the contract's class.
    #[derive(Drop, starknet::Event)]
    struct Upgraded {
        #[key]
        class_hash: ClassHash,
    }

    /// Addresses must be valid and the fee split too, as `set_*` and `set_fee_config` require.
    /// Emits `EscrowInitialized` with every setting, so an indexer needs nothing but events.
    #[constructor]
    fn constructor(
        ref self: ContractState,
        owner: ContractAddress,
        payment_token: ContractAddress,
        scheduler: ContractAddress,
        treasury: ContractAddress,
        gas_recipient: ContractAddress,
        provider_bps: u16,
        gas_bps: u16,
        treasury_bps: u16
    ) {
        assert(!owner.is_zero(), Errors::ZERO_ADDRESS);
        assert(!payment_token.is_zero(), Errors::ZERO_ADDRESS);
        assert(!scheduler.is_zero(), Errors::ZERO_ADDRESS);
        assert_payee(treasury);
        assert_payee(gas_recipient);
        let fees = FeeConfig { provider_bps, gas_bps, treasury_bps };
        assert_valid_fees(fees);
        self.owner.write(owner);
        self.payment_token.write(payment_token);
        self.scheduler.write(scheduler);
        self.treasury.write(treasury);
        self.gas_recipient.write(gas_recipient);
        self.fee_config.write(fees);
        self.max_execution_time.write(DEFAULT_MAX_EXECUTION_TIME);
        self
            .emit(
                Event::EscrowInitialized(
                    EscrowInitialized {
                        owner,
                        payment_token,
                        scheduler,
                        treasury,
                        gas_recipient,
                        fees,
                        max_execution_time: DEFAULT_MAX_EXECUTION_TIME
                    }
                )
            );
    }

    #[external(v0)]
    impl EscrowImpl of IEscrow<ContractState> {
        // ------------------------------------------------------------------ tasks

        fn create_task(
            ref self: ContractState,
            kind: felt252,
            payload: Array<felt252>,
            requirements: Requirements,
            amount: u256
        ) -> u64 {
            self._enter();
            self._assert_not_paused();
            assert(amount != 0, Errors::ZERO_AMOUNT);
            assert(requirements.max_execution_time != 0, Errors::INVALID_EXECUTION_TIME);
            assert(
                requirements.max_execution_time <= self.max_execution_time.read(),
                Errors::EXECUTION_TIME_TOO_LONG
            );
            assert(requirements.min_tier <= MAX_TIER, Errors::INVALID_TIER);
            assert(is_valid_payload(payload.span()), Errors::INVALID_PAYLOAD);

            let info = get_execution_info().unbox();
            let creator = info.caller_address;
            let now = info.block_info.unbox().block_timestamp;
            let task_id = self.task_count.read() + 1;
            let payload_hash = poseidon_hash_span(payload.span());
            let fees = self.fee_config.read();

            self.task_count.write(task_id);
            self.task_creator.write(task_id, creator);
            self.task_kind.write(task_id, kind);
            self.task_payload_hash.write(task_id, payload_hash);
            self.task_requirements.write(task_id, requirements);
            self.task_amount.write(task_id, amount);
            self.task_fees.write(task_id, pack_fees(fees));
            self.task_created_at.write(task_id, now);
            self.task_status.write(task_id, TASK_OPEN);
            self.escrowed.write(self.escrowed.read() + amount);
            let index = self.user_task_count.read(creator);
            self.user_tasks.write((creator, index), task_id);
            self.user_task_count.write(creator, index + 1);
            self
                .emit(
                    Event::TaskCreated(
                        TaskCreated {
                            task_id,
                            creator,
                            kind,
                            payload_hash,
                            payload,
                            requirements,
                            amount,
                            fees,
                            created_at: now
                        }
                    )
                );

            let ok = self._token().transfer_from(creator, info.contract_address, amount);
            assert(ok, Errors::TRANSFER_FAILED);
            self._exit();
            task_id
        }

        fn cancel_task(ref self: ContractState, task_id: u64) {
            self._enter();
            let status = self._task_status(task_id);
            let creator = self.task_creator.read(task_id);
            assert(get_caller_address() == creator, Errors::NOT_TASK_CREATOR);
            assert(status == TASK_OPEN, Errors::TASK_NOT_OPEN);

            self.task_status.write(task_id, TASK_CANCELLED);
            let refund = self._release(task_id);
            self.emit(Event::TaskCancelled(TaskCancelled { task_id, creator, refund }));

            self._pay(creator, refund);
            self._exit();
        }

        fn assign_task(ref self: ContractState, task_id: u64, node: ContractAddress) {
            let info = get_execution_info().unbox();
            assert(info.caller_address == self.scheduler.read(), Errors::NOT_SCHEDULER);
            self._assert_not_paused();
            assert(self._task_status(task_id) == TASK_OPEN, Errors::TASK_NOT_OPEN);
            assert(self.node_status.read(node) == NODE_ACTIVE, Errors::NODE_NOT_ACTIVE);

            let requirements = self.task_requirements.read(task_id);
            let spec = self.node_spec.read(node);
            assert(spec.tier >= requirements.min_tier, Errors::NODE_TIER_TOO_LOW);
            assert(spec.gpu || !requirements.gpu_required, Errors::GPU_REQUIRED);
            assert(spec.cpu_threads >= requirements.cpu_threads, Errors::NOT_ENOUGH_CPU);
            assert(spec.ram_gb >= requirements.ram_gb, Errors::NOT_ENOUGH_RAM);

            // max_execution_time is at most MAX_EXECUTION_TIME_CAP, so the deadline is a real
            // time that block timestamps will pass.
            let assigned_at = info.block_info.unbox().block_timestamp;
            let deadline = assigned_at + requirements.max_execution_time;
            self.task_status.write(task_id, TASK_ASSIGNED);
            self.task_node.write(task_id, node);
            self.task_assigned_at.write(task_id, assigned_at);
            self.task_deadline.write(task_id, deadline);

            let creator = self.task_creator.read(task_id);
            self
                .emit(
                    Event::TaskAssigned(
                        TaskAssigned { task_id, node, creator, assigned_at, deadline }
                    )
                );
        }

        fn submit_proof_and_claim(
            ref self: ContractState, task_id: u64, result_hash: felt252, result: Array<felt252>
        ) {
            self._enter();
            assert(self._task_status(task_id) == TASK_ASSIGNED, Errors::TASK_NOT_ASSIGNED);
            let info = get_execution_info().unbox();
            let node = self.task_node.read(task_id);
            assert(info.caller_address == node, Errors::NOT_ASSIGNED_NODE);
            let now = info.block_info.unbox().block_timestamp;
            assert(now <= self.task_deadline.read(task_id), Errors::TASK_EXPIRED);
            assert(result.len() <= MAX_RESULT_FELTS, Errors::RESULT_TOO_LONG);
            assert(poseidon_hash_span(result.span()) == result_hash, Errors::RESULT_HASH_MISMATCH);

            // Split by the task's own terms: gas and treasury round down, the provider gets
            // the rest.
            let amount = self._release(task_id);
            let fees = unpack_fees(self.task_fees.read(task_id));
            let gas_amount = bps_of(amount, fees.gas_bps);
            let treasury_amount = bps_of(amount, fees.treasury_bps);
            let provider_amount = amount - gas_amount - treasury_amount;

            self.task_status.write(task_id, TASK_COMPLETED);
            self.task_completed_at.write(task_id, now);
            self.task_result_hash.write(task_id, result_hash);
            self.node_completed_tasks.write(node, self.node_completed_tasks.read(node) + 1);
            self.node_earnings.write(node, self.node_earnings.read(node) + provider_amount);
            let creator = self.task_creator.read(task_id);
            self
                .emit(
                    Event::TaskCompleted(
                        TaskCompleted {
                            task_id,
                            node,
                            creator,
                            result_hash,
                            result,
                            provider_amount,
                            gas_amount,
                            treasury_amount,
                            completed_at: now
                        }
                    )
                );

            self._pay(node, provider_amount);
            self._pay(self.gas_recipient.read(), gas_amount);
            self._pay(self.treasury.read(), treasury_amount);
            self._exit();
        }

        fn reclaim_expired(ref self: ContractState, task_id: u64) {
            self._enter();
            assert(self._task_status(task_id) == TASK_ASSIGNED, Errors::TASK_NOT_ASSIGNED);
            let now = get_block_timestamp();
            assert(now > self.task_deadline.read(task_id), Errors::TASK_NOT_EXPIRED);

            self.task_status.write(task_id, TASK_EXPIRED);
            let node = self.task_node.read(task_id);
            self.node_failed_tasks.write(node, self.node_failed_tasks.read(node) + 1);
            let creator = self.task_creator.read(task_id);
            let refund = self._release(task_id);
            self.emit(Event::TaskExpired(TaskExpired { task_id, node, creator, refund }));

            self._pay(creator, refund);
            self._exit();
        }

        // ------------------------------------------------------------------ nodes

        fn register_node(
            ref self: ContractState, tier: u8, gpu: bool, cpu_threads: u16, ram_gb: u16
        ) {
            assert(tier >= 1 && tier <= MAX_TIER, Errors::INVALID_TIER);
            let info = get_execution_info().unbox();
            let node = info.caller_address;
            let status = self.node_status.read(node);
            assert(status != NODE_SUSPENDED, Errors::NODE_SUSPENDED);

            // An update keeps the first registration time, the counters and the earnings.
            let registered_at = if status == NODE_NONE {
                let now = info.block_info.unbox().block_timestamp;
                self.node_registered_at.write(node, now);
                now
            } else {
                self.node_registered_at.read(node)
            };
            self.node_spec.write(node, NodeSpec { tier, gpu, cpu_threads, ram_gb });
            self.node_status.write(node, NODE_ACTIVE);
            self
                .emit(
                    Event::NodeRegistered(
                        NodeRegistered { node, tier, gpu, cpu_threads, ram_gb, registered_at }
                    )
                );
        }

        fn deactivate_node(ref self: ContractState) {
            let node = get_caller_address();
            assert(self.node_status.read(node) == NODE_ACTIVE, Errors::NODE_NOT_ACTIVE);
            self.node_status.write(node, NODE_INACTIVE);
            self.emit(Event::NodeDeactivated(NodeDeactivated { node }));
        }

        fn heartbeat(ref self: ContractState) {
            let info = get_execution_info().unbox();
            let node = info.caller_address;
            let status = self.node_status.read(node);
            assert(status != NODE_NONE, Errors::NODE_NOT_REGISTERED);
            assert(status != NODE_SUSPENDED, Errors::NODE_SUSPENDED);
            let timestamp = info.block_info.unbox().block_timestamp;
            self.node_last_heartbeat.write(node, timestamp);
            self.emit(Event::NodeHeartbeat(NodeHeartbeat { node, timestamp }));
        }

        fn suspend_node(ref self: ContractState, node: ContractAddress) {
            self._assert_only_owner();
            let status = self.node_status.read(node);
            assert(status != NODE_NONE, Errors::NODE_NOT_REGISTERED);
            assert(status != NODE_SUSPENDED, Errors::NODE_ALREADY_SUSPENDED);
            self.node_status_before_suspension.write(node, status);
            self.node_status.write(node, NODE_SUSPENDED);
            self.emit(Event::NodeSuspended(NodeSuspended { node }));
        }

        fn reinstate_node(ref self: ContractState, node: ContractAddress) {
            self._assert_only_owner();
            assert(self.node_status.read(node) == NODE_SUSPENDED, Errors::NODE_NOT_SUSPENDED);
            // A node that had deactivated itself stays out of the assignment pool.
            let status = self.node_status_before_suspension.read(node);
            self.node_status.write(node, status);
            self.emit(Event::NodeReinstated(NodeReinstated { node, status }));
        }

        // ------------------------------------------------------------------ administration

        fn set_scheduler(ref self: ContractState, new_scheduler: ContractAddress) {
            self._assert_only_owner();
            assert(!new_scheduler.is_zero(), Errors::ZERO_ADDRESS);
            let old = self.scheduler.read();
            self.scheduler.write(new_scheduler);
            self.emit(Event::SchedulerUpdated(SchedulerUpdated { old, new: new_scheduler }));
        }

        fn set_treasury(ref self: ContractState, new_treasury: ContractAddress) {
            self._assert_only_owner();
            assert_payee(new_treasury);
            let old = self.treasury.read();
            self.treasury.write(new_treasury);
            self.emit(Event::TreasuryUpdated(TreasuryUpdated { old, new: new_treasury }));
        }

        fn set_gas_recipient(ref self: ContractState, new_gas_recipient: ContractAddress) {
            self._assert_only_owner();
            assert_payee(new_gas_recipient);
            let old = self.gas_recipient.read();
            self.gas_recipient.write(new_gas_recipient);
            self
                .emit(
                    Event::GasRecipientUpdated(GasRecipientUpdated { old, new: new_gas_recipient })
                );
        }

        fn set_fee_config(
            ref self: ContractState, provider_bps: u16, gas_bps: u16, treasury_bps: u16
        ) {
            self._assert_only_owner();
            assert_valid_fees(FeeConfig { provider_bps, gas_bps, treasury_bps });
            self.fee_config.write(FeeConfig { provider_bps, gas_bps, treasury_bps });
            self
                .emit(
                    Event::FeeConfigUpdated(
                        FeeConfigUpdated { provider_bps, gas_bps, treasury_bps }
                    )
                );
        }

        fn set_max_execution_time(ref self: ContractState, seconds: u64) {
            self._assert_only_owner();
            assert(seconds != 0, Errors::INVALID_EXECUTION_TIME);
            assert(seconds <= MAX_EXECUTION_TIME_CAP, Errors::EXECUTION_TIME_TOO_LONG);
            let old = self.max_execution_time.read();
            self.max_execution_time.write(seconds);
            self
                .emit(
                    Event::MaxExecutionTimeUpdated(MaxExecutionTimeUpdated { old, new: seconds })
                );
        }

        fn rescue_tokens(
            ref self: ContractState, token: ContractAddress, to: ContractAddress, amount: u256
        ) {
            self._enter();
            self._assert_only_owner();
            assert(!to.is_zero(), Errors::ZERO_ADDRESS);
            assert(amount != 0, Errors::ZERO_AMOUNT);
            let erc20 = IERC20Dispatcher { contract_address: token };
            if token == self.payment_token.read() {
                // Only what nobody is owed: the balance above the sum of Open and Assigned
                // amounts (zero if a misbehaving token left the escrow short).
                let balance = erc20.balance_of(get_contract_address());
                let owed = self.escrowed.read();
                let surplus = if balance > owed {
                    balance - owed
                } else {
                    0
                };
                assert(amount <= surplus, Errors::RESCUE_EXCEEDS_SURPLUS);
            }
            self.emit(Event::TokensRescued(TokensRescued { token, to, amount }));

            assert(erc20.transfer(to, amount), Errors::TRANSFER_FAILED);
            self._exit();
        }

        fn pause(ref self: ContractState) {
            let account = self._assert_only_owner();
            assert(!self.paused.read(), Errors::ALREADY_PAUSED);
            self.paused.write(true);
            self.emit(Event::Paused(Paused { account }));
        }

        fn unpause(ref self: ContractState) {
            let account = self._assert_only_owner();
            assert(self.paused.read(), Errors::NOT_PAUSED);
            self.paused.write(false);
            self.emit(Event::Unpaused(Unpaused { account }));
        }

        fn transfer_ownership(ref self: ContractState, new_owner: ContractAddress) {
            let previous_owner = self._assert_only_owner();
            self.pending_owner.write(new_owner);
            self
                .emit(
                    Event::OwnershipTransferStarted(
                        OwnershipTransferStarted { previous_owner, new_owner }
                    )
                );
        }

        fn accept_ownership(ref self: ContractState) {
            let caller = get_caller_address();
            let pending = self.pending_owner.read();
            assert(!pending.is_zero() && caller == pending, Errors::NOT_PENDING_OWNER);
            let previous_owner = self.owner.read();
            self.owner.write(caller);
            self.pending_owner.write(Zeroable::zero());
            self
                .emit(
                    Event::OwnershipTransferred(
                        OwnershipTransferred { previous_owner, new_owner: caller }
                    )
                );
        }

        fn upgrade(ref self: ContractState, new_class_hash: ClassHash) {
            self._assert_only_owner();
            assert(!new_class_hash.is_zero(), Errors::ZERO_CLASS_HASH);
            match replace_class_syscall(new_class_hash) {
                Result::Ok(()) => {},
                Result::Err(revert_reason) => panic(revert_reason),
            };
            self.emit(Event::Upgraded(Upgraded { class_hash: new_class_hash }));
        }

        // ------------------------------------------------------------------ views

        fn get_task(self: @ContractState, task_id: u64) -> Task {
            let status = self._task_status(task_id);
            Task {
                id: task_id,
                creator: self.task_creator.read(task_id),
                kind: self.task_kind.read(task_id),
                payload_hash: self.task_payload_hash.read(task_id),
                requirements: self.task_requirements.read(task_id),
                amount: self.task_amount.read(task_id),
                fees: unpack_fees(self.task_fees.read(task_id)),
                status,
                node: self.task_node.read(task_id),
                created_at: self.task_created_at.read(task_id),
                assigned_at: self.task_assigned_at.read(task_id),
                deadline: self.task_deadline.read(task_id),
                completed_at: self.task_completed_at.read(task_id),
                result_hash: self.task_result_hash.read(task_id),
            }
        }

        fn get_task_count(self: @ContractState) -> u64 {
            self.task_count.read()
        }

        fn get_user_tasks(
            self: @ContractState, user: ContractAddress, offset: u64, limit: u64
        ) -> Array<u64> {
            let mut ids = ArrayTrait::new();
            let count = self.user_task_count.read(user);
            if offset >= count {
                return ids;
            }
            let limit = if limit > MAX_PAGE_SIZE {
                MAX_PAGE_SIZE
            } else {
                limit
            };
            // No overflow: offset + limit is only formed when it is below count.
            let end = if count - offset <= limit {
                count
            } else {
                offset + limit
            };
            let mut index = offset;
            loop {
                if index >= end {
                    break;
                }
                ids.append(self.user_tasks.read((user, index)));
                index += 1;
            };
            ids
        }

        fn get_user_task_count(self: @ContractState, user: ContractAddress) -> u64 {
            self.user_task_count.read(user)
        }

        fn get_user_earnings(self: @ContractState, provider: ContractAddress) -> u256 {
            self.node_earnings.read(provider)
        }

        fn get_node(self: @ContractState, node: ContractAddress) -> Node {
            let spec = self.node_spec.read(node);
            Node {
                tier: spec.tier,
                gpu: spec.gpu,
                cpu_threads: spec.cpu_threads,
                ram_gb: spec.ram_gb,
                status: self.node_status.read(node),
                registered_at: self.node_registered_at.read(node),
                last_heartbeat: self.node_last_heartbeat.read(node),
                completed_tasks: self.node_completed_tasks.read(node),
                failed_tasks: self.node_failed_tasks.read(node),
                earnings: self.node_earnings.read(node),
            }
        }

        fn get_node_status(self: @ContractState, node: ContractAddress) -> u8 {
            self.node_status.read(node)
        }

        fn get_fee_config(self: @ContractState) -> FeeConfig {
            self.fee_config.read()
        }

        fn max_execution_time(self: @ContractState) -> u64 {
            self.max_execution_time.read()
        }

        fn escrowed_amount(self: @ContractState) -> u256 {
            self.escrowed.read()
        }

        fn owner(self: @ContractState) -> ContractAddress {
            self.owner.read()
        }

        fn pending_owner(self: @ContractState) -> ContractAddress {
            self.pending_owner.read()
        }

        fn scheduler(self: @ContractState) -> ContractAddress {
            self.scheduler.read()
        }

        fn treasury(self: @ContractState) -> ContractAddress {
            self.treasury.read()
        }

        fn gas_recipient(self: @ContractState) -> ContractAddress {
            self.gas_recipient.read()
        }

        fn payment_token(self: @ContractState) -> ContractAddress {
            self.payment_token.read()
        }

        fn is_paused(self: @ContractState) -> bool {
            self.paused.read()
        }
    }

    #[generate_trait]
    impl InternalImpl of InternalTrait {
        /// Reverts with 'NOT_OWNER' unless the caller is the owner; returns the owner.
        fn _assert_only_owner(self: @ContractState) -> ContractAddress {
            let owner = self.owner.read();
            assert(get_caller_address() == owner, Errors::NOT_OWNER);
            owner
        }

        fn _assert_not_paused(self: @ContractState) {
            assert(!self.paused.read(), Errors::PAUSED);
        }

        /// Reentrancy guard (OpenZeppelin's ReentrancyGuard, written out: Cairo 2.1 has no
        /// components). Every function that calls the token enters first and exits last, so
        /// a token that calls back into the escrow reverts with 'REENTRANT_CALL'.
        fn _enter(ref self: ContractState) {
            assert(!self.entered.read(), Errors::REENTRANT_CALL);
            self.entered.write(true);
        }

        fn _exit(ref self: ContractState) {
            self.entered.write(false);
        }

        /// Takes a task's amount out of the escrowed total as it leaves Open or Assigned;
        /// returns the amount.
        fn _release(ref self: ContractState, task_id: u64) -> u256 {
            let amount = self.task_amount.read(task_id);
            self.escrowed.write(self.escrowed.read() - amount);
            amount
        }

        /// The status of an existing task; reverts with 'TASK_NOT_FOUND' otherwise.
        fn _task_status(self: @ContractState, task_id: u64) -> u8 {
            let status = self.task_status.read(task_id);
            assert(status != TASK_NONE, Errors::TASK_NOT_FOUND);
            status
        }

        fn _token(self: @ContractState) -> IERC20Dispatcher {
            IERC20Dispatcher { contract_address: self.payment_token.read() }
        }

        /// Sends `amount` of the payment token to `to`; nothing for a zero amount.
        fn _pay(self: @ContractState, to: ContractAddress, amount: u256) {
            if amount == 0 {
                return;
            }
            assert(self._token().transfer(to, amount), Errors::TRANSFER_FAILED);
        }
    }

    /// floor(amount * bps / 10000) for any u256 amount, without overflow:
    /// with amount = q * 10000 + r, it is q * bps + floor(r * bps / 10000), and
    /// q * bps <= amount because bps <= 10000, r * bps < 10000 * 10000.
    fn bps_of(amount: u256, bps: u16) -> u256 {
        let denominator: u256 = BPS_DENOMINATOR.into();
        let bps: u256 = bps.into();
        let q = amount / denominator;
        let r = amount % denominator;
        q * bps + (r * bps) / denominator
    }

    /// Reverts unless `fees` sums to 10000 within the caps, in the documented order.
    fn assert_valid_fees(fees: FeeConfig) {
        // Summed as u32 so that large inputs fail with INVALID_FEE_SPLIT, not overflow.
        let provider: u32 = fees.provider_bps.into();
        let gas: u32 = fees.gas_bps.into();
        let treasury: u32 = fees.treasury_bps.into();
        let denominator: u32 = BPS_DENOMINATOR.into();
        assert(provider + gas + treasury == denominator, Errors::INVALID_FEE_SPLIT);
        assert(fees.treasury_bps <= MAX_TREASURY_BPS, Errors::TREASURY_FEE_TOO_HIGH);
        assert(fees.gas_bps <= MAX_GAS_BPS, Errors::GAS_FEE_TOO_HIGH);
    }

    /// A treasury or gas recipient: non-zero, and not the escrow itself (a share paid to the
    /// escrow would sit in it unaccounted).
    fn assert_payee(address: ContractAddress) {
        assert(!address.is_zero(), Errors::ZERO_ADDRESS);
        assert(address != get_contract_address(), Errors::SELF_ADDRESS);
    }

    /// One slot for a task's terms: `(provider * 2^16 + gas) * 2^16 + treasury` (each share is
    /// at most 10000 < 2^16).
    fn pack_fees(fees: FeeConfig) -> u64 {
        let provider: u64 = fees.provider_bps.into();
        let gas: u64 = fees.gas_bps.into();
        let treasury: u64 = fees.treasury_bps.into();
        (provider * FEE_SHIFT + gas) * FEE_SHIFT + treasury
    }

    /// The FeeConfig that `pack_fees` packed.
    fn unpack_fees(packed: u64) -> FeeConfig {
        let treasury_bps: u16 = (packed % FEE_SHIFT).try_into().unwrap();
        let rest = packed / FEE_SHIFT;
        let gas_bps: u16 = (rest % FEE_SHIFT).try_into().unwrap();
        let provider_bps: u16 = (rest / FEE_SHIFT).try_into().unwrap();
        FeeConfig { provider_bps, gas_bps, treasury_bps }
    }

    /// A payload is `[byte_len, w_1, ..., w_n]` with n = ceil(byte_len / 31) and at most
    /// MAX_PAYLOAD_FELTS felts in all. The words themselves are only committed to by the hash.
    fn is_valid_payload(payload: Span<felt252>) -> bool {
        let len = payload.len();
        if len == 0 || len > MAX_PAYLOAD_FELTS {
            return false;
        }
        let byte_len: u32 = match (*payload.at(0)).try_into() {
            Option::Some(byte_len) => byte_len,
            Option::None => {
                return false;
            },
        };
        let mut words = byte_len / BYTES_PER_FELT;
        if byte_len % BYTES_PER_FELT != 0 {
            words += 1;
        }
        words == len - 1
    }
}
