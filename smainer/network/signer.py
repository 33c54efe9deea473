"""A starknet-py signer that makes starknet-py's own Stark ECDSA signatures ~70x faster.

starknet-py 0.30 signs through crypto-cpp's ``Sign``, which takes ~200 ms per signature on this
machine kind: more than the devnet takes to execute a small invoke. The signature is fully
determined by the message and the key (RFC 6979 ``k``, seed 32, as starknet-py does), so the same
``(r, s)`` can be computed with the one slow step, ``k * G``, done by fastecdsa (C, a cairo-lang
dependency) in ~3 ms; the rest is the same few modular operations crypto-cpp does. The tests
check every signature against starknet-py's on random keys and messages.
"""

from __future__ import annotations

from crypto_cpp_py.utils import cpp_generate_k_rfc6979
from fastecdsa.curve import Curve
from fastecdsa.point import Point
from starknet_py.net.models import AddressRepresentation
from starknet_py.net.models.chains import ChainId
from starknet_py.net.models.transaction import AccountTransaction
from starknet_py.net.signer.key_pair import KeyPair
from starknet_py.net.signer.stark_curve_signer import StarkCurveSigner
from starknet_py.utils.typed_data import TypedData

__all__ = ["FastStarkSigner", "fast_key_pair", "public_key", "sign"]

# The Stark curve y^2 = x^3 + ALPHA * x + BETA over FIELD_PRIME, with the generator of its
# order-EC_ORDER group (cairo-lang's ``starkware.crypto.signature.signature``, which takes ~0.3 s
# to import for its Pedersen tables; the test checks these against it).
FIELD_PRIME = 0x800000000000011000000000000000000000000000000000000000000000001
EC_ORDER = 0x800000000000010FFFFFFFFFFFFFFFFB781126DCAE7B2321E66A241ADC64D2F
ALPHA = 1
BETA = 0x6F21413EFBE40DE150E596D72F7A8C5609AD26C15C915C1F4CDFCB99CEE9E89
EC_GEN = (
    0x1EF15C18599971B7BECED415A40F0C7DEACFD9B0D1819E03D723D8BC943CFCA,
    0x5668060AA49730B7BE4801DF46EC62DE53ECD11ABE43A32873000C36E8DC1F,
)
_BOUND = 2**251  # r, s, w and the message must be below it (N_ELEMENT_BITS_ECDSA = 251)
_SEED = 32  # starknet-py's ``message_signature`` default

_CURVE = Curve("stark", FIELD_PRIME, ALPHA, BETA, EC_ORDER, *EC_GEN)
_GENERATOR = Point(*EC_GEN, curve=_CURVE)


def sign(msg_hash: int, private_key: int) -> tuple[int, int]:
    """``starknet_py.hash.utils.message_signature(msg_hash, private_key)``, faster.

    Raises ``ValueError`` where crypto-cpp's ``Sign`` refuses (a message, ``r`` or ``w`` out of
    range, or a zero ``r * key + msg``; the last three have negligible probability).
    """
    if not 0 <= msg_hash < _BOUND:
        raise ValueError("message hash out of range")
    k = cpp_generate_k_rfc6979(msg_hash, private_key, _SEED)
    if not 0 < k < EC_ORDER:
        raise ValueError("k out of range")
    r = int((k * _GENERATOR).x)
    if not 1 <= r < _BOUND:
        raise ValueError("r out of range")
    intermediate = (msg_hash + r * private_key) % EC_ORDER
    if intermediate == 0:
        raise ValueError("r * key + message is zero")
    w = k * pow(intermediate, -1, EC_ORDER) % EC_ORDER
    if not 1 <= w < _BOUND:
        raise ValueError("w out of range")
    return r, pow(w, -1, EC_ORDER)


def public_key(private_key: int) -> int:
    """The Stark key (x of ``key * G``), as ``starknet_py.hash.utils.private_to_stark_key``."""
    if not 0 < private_key < EC_ORDER:
        raise ValueError("private key out of range")
    return int((private_key * _GENERATOR).x)


def fast_key_pair(private_key: int) -> KeyPair:
    """``KeyPair.from_private_key(private_key)`` with the public key computed by fastecdsa."""
    return KeyPair(private_key=private_key, public_key=public_key(private_key))


class FastStarkSigner(StarkCurveSigner):
    """starknet-py's ``StarkCurveSigner`` (same hashes, same signatures) with :func:`sign`."""

    def __init__(
        self, account_address: AddressRepresentation, key_pair: KeyPair, chain_id: ChainId
    ) -> None:
        super().__init__(account_address=account_address, key_pair=key_pair, chain_id=chain_id)

    def sign_transaction(self, transaction: AccountTransaction) -> list[int]:
        return list(sign(transaction.calculate_hash(self.chain_id), self.private_key))

    def sign_message(self, typed_data: TypedData, account_address: int) -> list[int]:
        return list(sign(typed_data.message_hash(account_address), self.private_key))
