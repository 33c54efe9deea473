//! Smainer token: ERC-20 with owner minting. Escrow payments are made in it, and the local
//! devnet uses it as its STRK fee token.

#[starknet::contract]
mod Token {
    use zeroable::Zeroable;
    use starknet::{ContractAddress, get_caller_address};
    use super::super::interfaces::{IERC20, IERC20Camel, IMintable};

    /// Revert reasons.
    mod Errors {
        const NOT_OWNER: felt252 = 'NOT_OWNER';
        const INSUFFICIENT_BALANCE: felt252 = 'INSUFFICIENT_BALANCE';
        const INSUFFICIENT_ALLOWANCE: felt252 = 'INSUFFICIENT_ALLOWANCE';
        const TRANSFER_FROM_ZERO: felt252 = 'TRANSFER_FROM_ZERO';
        const TRANSFER_TO_ZERO: felt252 = 'TRANSFER_TO_ZERO';
        const APPROVE_FROM_ZERO: felt252 = 'APPROVE_FROM_ZERO';
        const APPROVE_TO_ZERO: felt252 = 'APPROVE_TO_ZERO';
        const MINT_TO_ZERO: felt252 = 'MINT_TO_ZERO';
    }

    /// u128 with all bits set: both halves of the infinite allowance 2**256 - 1.
    const MAX_U128: u128 = 0xffffffffffffffffffffffffffffffff;

    // Storage names follow the Cairo 0 / OpenZeppelin ERC-20 layout on purpose: cairo-lang
    // reads a fee token balance at `get_storage_var_address('ERC20_balances', account)`
    // (u256: low at that key, high at key + 1), which is exactly where this LegacyMap keeps it.
    #[storage]
    struct Storage {
        ERC20_name: felt252,
        ERC20_symbol: felt252,
        ERC20_decimals: u8,
        ERC20_total_supply: u256,
        ERC20_balances: LegacyMap<ContractAddress, u256>,
        ERC20_allowances: LegacyMap<(ContractAddress, ContractAddress), u256>,
        owner: ContractAddress,
    }

    #[event]
    #[derive(Drop, starknet::Event)]
    enum Event {
        Transfer: Transfer,
        Approval: Approval,
    }

    /// Fires on every balance change: transfers, and mints (`from` zero).
    #[derive(Drop, starknet::Event)]
    struct Transfer {
        #[key]
        from: ContractAddress,
        #[key]
        to: ContractAddress,
        value: u256,
    }

    /// Fires when an allowance is set by `approve` or lowered by `transfer_from`.
    #[derive(Drop, starknet::Event)]
    struct Approval {
        #[key]
        owner: ContractAddress,
        #[key]
        spender: ContractAddress,
        value: u256,
    }

    /// Mints `initial_supply` to `recipient`; `owner` may mint more later (zero: nobody).
    #[constructor]
    fn constructor(
        ref self: ContractState,
        name: felt252,
        symbol: felt252,
        decimals: u8,
        initial_supply: u256,
        recipient: ContractAddress,
        owner: ContractAddress
    ) {
        self.ERC20_name.write(name);
        self.ERC20_symbol.write(symbol);
        self.ERC20_decimals.write(decimals);
        self.owner.write(owner);
        if initial_supply != 0 {
            self._mint(recipient, initial_supply);
        }
    }

    #[external(v0)]
    impl ERC20Impl of IERC20<ContractState> {
        fn name(self: @ContractState) -> felt252 {
            self.ERC20_name.read()
        }

        fn symbol(self: @ContractState) -> felt252 {
            self.ERC20_symbol.read()
        }

        fn decimals(self: @ContractState) -> u8 {
            self.ERC20_decimals.read()
        }

        fn total_supply(self: @ContractState) -> u256 {
            self.ERC20_total_supply.read()
        }

        fn balance_of(self: @ContractState, account: ContractAddress) -> u256 {
            self.ERC20_balances.read(account)
        }

        fn allowance(
            self: @ContractState, owner: ContractAddress, spender: ContractAddress
        ) -> u256 {
            self.ERC20_allowances.read((owner, spender))
        }

        fn transfer(ref self: ContractState, recipient: ContractAddress, amount: u256) -> bool {
            self._transfer(get_caller_address(), recipient, amount);
            true
        }

        fn transfer_from(
            ref self: ContractState,
            sender: ContractAddress,
            recipient: ContractAddress,
            amount: u256
        ) -> bool {
            self._spend_allowance(sender, get_caller_address(), amount);
            self._transfer(sender, recipient, amount);
            true
        }

        fn approve(ref self: ContractState, spender: ContractAddress, amount: u256) -> bool {
            self._approve(get_caller_address(), spender, amount);
            true
        }
    }

    #[external(v0)]
    impl ERC20CamelImpl of IERC20Camel<ContractState> {
        fn totalSupply(self: @ContractState) -> u256 {
            self.ERC20_total_supply.read()
        }

        fn balanceOf(self: @ContractState, account: ContractAddress) -> u256 {
            self.ERC20_balances.read(account)
        }

        fn transferFrom(
            ref self: ContractState,
            sender: ContractAddress,
            recipient: ContractAddress,
            amount: u256
        ) -> bool {
            self._spend_allowance(sender, get_caller_address(), amount);
            self._transfer(sender, recipient, amount);
            true
        }
    }

    #[external(v0)]
    impl MintableImpl of IMintable<ContractState> {
        fn mint(ref self: ContractState, recipient: ContractAddress, amount: u256) {
            assert(get_caller_address() == self.owner.read(), Errors::NOT_OWNER);
            self._mint(recipient, amount);
        }

        fn owner(self: @ContractState) -> ContractAddress {
            self.owner.read()
        }
    }

    #[generate_trait]
    impl InternalImpl of InternalTrait {
        fn _transfer(
            ref self: ContractState,
            sender: ContractAddress,
            recipient: ContractAddress,
            amount: u256
        ) {
            assert(!sender.is_zero(), Errors::TRANSFER_FROM_ZERO);
            assert(!recipient.is_zero(), Errors::TRANSFER_TO_ZERO);
            let sender_balance = self.ERC20_balances.read(sender);
            assert(sender_balance >= amount, Errors::INSUFFICIENT_BALANCE);
            self.ERC20_balances.write(sender, sender_balance - amount);
            // Cannot overflow: the sum of all balances is the total supply, a u256.
            self.ERC20_balances.write(recipient, self.ERC20_balances.read(recipient) + amount);
            self.emit(Event::Transfer(Transfer { from: sender, to: recipient, value: amount }));
        }

        fn _approve(
            ref self: ContractState, owner: ContractAddress, spender: ContractAddress, amount: u256
        ) {
            assert(!owner.is_zero(), Errors::APPROVE_FROM_ZERO);
            assert(!spender.is_zero(), Errors::APPROVE_TO_ZERO);
            self.ERC20_allowances.write((owner, spender), amount);
            self.emit(Event::Approval(Approval { owner, spender, value: amount }));
        }

        /// Lowers `owner`'s allowance for `spender` by `amount`, unless it is infinite. Spending
        /// zero needs no allowance and changes nothing (no `Approval`), so a zero-amount
        /// `transfer_from` reverts only for the reasons `_transfer` gives.
        fn _spend_allowance(
            ref self: ContractState, owner: ContractAddress, spender: ContractAddress, amount: u256
        ) {
            if amount == 0 {
                return;
            }
            let current = self.ERC20_allowances.read((owner, spender));
            if current.low == MAX_U128 && current.high == MAX_U128 {
                return;
            }
            assert(current >= amount, Errors::INSUFFICIENT_ALLOWANCE);
            self._approve(owner, spender, current - amount);
        }

        fn _mint(ref self: ContractState, recipient: ContractAddress, amount: u256) {
            assert(!recipient.is_zero(), Errors::MINT_TO_ZERO);
            // Overflow of the total supply reverts ('u256_add Overflow'); balances then fit.
            self.ERC20_total_supply.write(self.ERC20_total_supply.read() + amount);
            self.ERC20_balances.write(recipient, self.ERC20_balances.read(recipient) + amount);
            self
                .emit(
                    Event::Transfer(
                        Transfer { from: Zeroable::zero(), to: recipient, value: amount }
                    )
                );
        }
    }
}
