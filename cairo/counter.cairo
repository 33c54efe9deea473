//! Smainer counter: one u128 anyone may increase. Tiny on purpose: a benchmark invoking it
//! measures what a node spends per transaction, not what a contract spends (see
//! scripts/bench_devnet.py), and it is the simplest contract to try a devnet with. No owner and
//! no constructor arguments, so every deployment starts at zero.

#[starknet::contract]
mod Counter {
    use starknet::{ContractAddress, get_caller_address};
    use super::super::interfaces::ICounter;

    #[storage]
    struct Storage {
        value: u128,
    }

    #[event]
    #[derive(Drop, starknet::Event)]
    enum Event {
        Increased: Increased,
    }

    /// Fires on every `increase`, with the value after it: a reader of the events alone knows
    /// the value without calling `get`.
    #[derive(Drop, starknet::Event)]
    struct Increased {
        #[key]
        caller: ContractAddress,
        amount: u128,
        value: u128,
    }

    #[external(v0)]
    impl CounterImpl of ICounter<ContractState> {
        fn increase(ref self: ContractState, amount: u128) {
            // u128 addition reverts on overflow ('u128_add Overflow').
            let value = self.value.read() + amount;
            self.value.write(value);
            self.emit(Event::Increased(Increased { caller: get_caller_address(), amount, value }));
        }

        fn get(self: @ContractState) -> u128 {
            self.value.read()
        }
    }
}
