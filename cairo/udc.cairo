//! Smainer Universal Deployer Contract (UDC): a factory that lets accounts deploy contracts.
//!
//! Same interface and address rule as OpenZeppelin's UDC (the one starknet-py's `Deployer`
//! and starknet.js target), so client-side address computation matches the deployment:
//! `not_from_zero` salts with the caller (`pedersen(caller, salt)`) and makes the UDC the
//! deployer of record; otherwise the address depends only on the salt, class and calldata.
//! See docs/protocol.md.

#[starknet::contract]
mod UniversalDeployer {
    use array::{ArrayTrait, SpanTrait};
    use traits::Into;
    use hash::LegacyHash;
    use starknet::{ContractAddress, ClassHash, get_caller_address, deploy_syscall};
    use super::super::interfaces::IUniversalDeployer;

    #[storage]
    struct Storage {}

    #[event]
    #[derive(Drop, starknet::Event)]
    enum Event {
        ContractDeployed: ContractDeployed,
    }

    /// Fires on every deployment. All members are data (keys: only the selector), in the order
    /// OpenZeppelin's UDC and starknet-py's UDC ABI use; `salt` is the salt as passed, before
    /// any caller salting.
    #[derive(Drop, starknet::Event)]
    struct ContractDeployed {
        address: ContractAddress,
        deployer: ContractAddress,
        not_from_zero: bool,
        class_hash: ClassHash,
        calldata: Span<felt252>,
        salt: felt252,
    }

    #[external(v0)]
    impl UniversalDeployerImpl of IUniversalDeployer<ContractState> {
        fn deploy_contract(
            ref self: ContractState,
            class_hash: ClassHash,
            salt: felt252,
            not_from_zero: bool,
            calldata: Array<felt252>
        ) -> ContractAddress {
            self._deploy(class_hash, salt, not_from_zero, calldata.span())
        }

        fn deployContract(
            ref self: ContractState,
            class_hash: ClassHash,
            salt: felt252,
            not_from_zero: bool,
            calldata: Array<felt252>
        ) -> ContractAddress {
            self._deploy(class_hash, salt, not_from_zero, calldata.span())
        }
    }

    #[generate_trait]
    impl InternalImpl of InternalTrait {
        fn _deploy(
            ref self: ContractState,
            class_hash: ClassHash,
            salt: felt252,
            not_from_zero: bool,
            calldata: Span<felt252>
        ) -> ContractAddress {
            let deployer = get_caller_address();
            // The syscall's deployer is this contract, not the caller: a caller-bound address
            // needs the caller folded into the salt. `LegacyHash` of a felt252 is
            // `pedersen(state, value)`, reachable by the same path in Cairo 2.1 and 2.12.
            let final_salt = if not_from_zero {
                LegacyHash::<felt252>::hash(deployer.into(), salt)
            } else {
                salt
            };
            // (An explicit match: see account.cairo on `unwrap_syscall` across compilers.)
            let address = match deploy_syscall(class_hash, final_salt, calldata, !not_from_zero) {
                Result::Ok((address, _)) => address,
                Result::Err(revert_reason) => panic(revert_reason),
            };
            self
                .emit(
                    Event::ContractDeployed(
                        ContractDeployed {
                            address, deployer, not_from_zero, class_hash, calldata, salt
                        }
                    )
                );
            address
        }
    }
}
