//! Smainer account: a SNIP-6 (SRC6 + SRC5) account controlled by one Stark-curve key,
//! compatible with starknet-py's `Account` + `KeyPair` (v3 transactions).

#[starknet::contract(account)]
mod Account {
    use array::{ArrayTrait, SpanTrait};
    use box::BoxTrait;
    use ecdsa::check_ecdsa_signature;
    use option::OptionTrait;
    use zeroable::Zeroable;
    use starknet::{
        ContractAddress, get_caller_address, get_contract_address, get_tx_info,
        call_contract_syscall
    };
    use super::super::interfaces::{IAccount, Call};

    /// Revert reasons.
    mod Errors {
        const INVALID_SIGNATURE: felt252 = 'INVALID_SIGNATURE';
        const INVALID_CALLER: felt252 = 'INVALID_CALLER';
        const INVALID_TX_VERSION: felt252 = 'INVALID_TX_VERSION';
        const NOT_SELF: felt252 = 'NOT_SELF';
        const ZERO_PUBLIC_KEY: felt252 = 'ZERO_PUBLIC_KEY';
    }

    /// What `__validate*__` and `is_valid_signature` return on success.
    const VALIDATED: felt252 = 'VALID';
    /// SRC6 (SNIP-6 account) interface id.
    const ISRC6_ID: felt252 = 0x2ceccef7f994940b3962a6c67e0ba4fcd37df7d131417c604f91e03caecc1cd;
    /// SRC5 (introspection) interface id.
    const ISRC5_ID: felt252 = 0x3f918d17e5ee77373b56385708f855659a07f75997f365cf87748628532a055;

    #[storage]
    struct Storage {
        public_key: felt252,
    }

    #[event]
    #[derive(Drop, starknet::Event)]
    enum Event {
        OwnerPublicKeyChanged: OwnerPublicKeyChanged,
    }

    /// Fires when the signing key is set: at deployment (old key zero) and by `set_public_key`.
    #[derive(Drop, starknet::Event)]
    struct OwnerPublicKeyChanged {
        #[key]
        old_public_key: felt252,
        #[key]
        new_public_key: felt252,
    }

    #[constructor]
    fn constructor(ref self: ContractState, public_key: felt252) {
        self._set_public_key(public_key);
    }

    #[external(v0)]
    impl AccountImpl of IAccount<ContractState> {
        fn __validate__(self: @ContractState, calls: Array<Call>) -> felt252 {
            self._validate_transaction()
        }

        fn __execute__(ref self: ContractState, mut calls: Array<Call>) -> Array<Span<felt252>> {
            // Only the protocol (caller zero) may execute: nothing else checked the signature.
            assert(get_caller_address().is_zero(), Errors::INVALID_CALLER);
            // Version 0 transactions are not signed over by `__validate__`.
            let tx_info = get_tx_info().unbox();
            assert(tx_info.version != 0, Errors::INVALID_TX_VERSION);

            let mut results = ArrayTrait::new();
            loop {
                match calls.pop_front() {
                    Option::Some(call) => {
                        // A failing call reverts the whole transaction with its reason. (An explicit
                        // match: Cairo 2.1's contract macro imports SyscallResultTrait itself, 2.12's
                        // does not, so neither `use` nor `.unwrap_syscall()` suits both.)
                        let Call{to, selector, calldata } = call;
                        match call_contract_syscall(to, selector, calldata.span()) {
                            Result::Ok(data) => results.append(data),
                            Result::Err(revert_reason) => panic(revert_reason),
                        }
                    },
                    Option::None => {
                        break;
                    },
                };
            };
            results
        }

        fn __validate_declare__(self: @ContractState, class_hash: felt252) -> felt252 {
            self._validate_transaction()
        }

        fn __validate_deploy__(
            self: @ContractState,
            class_hash: felt252,
            contract_address_salt: felt252,
            public_key: felt252
        ) -> felt252 {
            self._validate_transaction()
        }

        fn is_valid_signature(
            self: @ContractState, hash: felt252, signature: Array<felt252>
        ) -> felt252 {
            if self._is_valid_signature(hash, signature.span()) {
                VALIDATED
            } else {
                0
            }
        }

        fn isValidSignature(
            self: @ContractState, hash: felt252, signature: Array<felt252>
        ) -> felt252 {
            if self._is_valid_signature(hash, signature.span()) {
                VALIDATED
            } else {
                0
            }
        }

        fn supports_interface(self: @ContractState, interface_id: felt252) -> bool {
            interface_id == ISRC6_ID || interface_id == ISRC5_ID
        }

        fn get_public_key(self: @ContractState) -> felt252 {
            self.public_key.read()
        }

        fn set_public_key(ref self: ContractState, new_public_key: felt252) {
            assert(get_caller_address() == get_contract_address(), Errors::NOT_SELF);
            self._set_public_key(new_public_key);
        }
    }

    #[generate_trait]
    impl InternalImpl of InternalTrait {
        /// Checks the current transaction's signature over its hash; returns 'VALID'.
        fn _validate_transaction(self: @ContractState) -> felt252 {
            let tx_info = get_tx_info().unbox();
            assert(
                self._is_valid_signature(tx_info.transaction_hash, tx_info.signature),
                Errors::INVALID_SIGNATURE
            );
            VALIDATED
        }

        /// True when `signature` is exactly `[r, s]`, a valid Stark ECDSA signature of `hash`
        /// by the stored public key.
        fn _is_valid_signature(
            self: @ContractState, hash: felt252, signature: Span<felt252>
        ) -> bool {
            if signature.len() != 2 {
                return false;
            }
            check_ecdsa_signature(
                hash, self.public_key.read(), *signature.at(0), *signature.at(1)
            )
        }

        /// Zero is refused: no key signs for it, so the account would be lost.
        fn _set_public_key(ref self: ContractState, new_public_key: felt252) {
            assert(new_public_key != 0, Errors::ZERO_PUBLIC_KEY);
            let old_public_key = self.public_key.read();
            self.public_key.write(new_public_key);
            self
                .emit(
                    Event::OwnerPublicKeyChanged(
                        OwnerPublicKeyChanged { old_public_key, new_public_key }
                    )
                );
        }
    }
}
