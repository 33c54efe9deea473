// The fast client of scripts/bench_devnet.py: small invokes (an ERC-20 `transfer` of one base
// unit) through starknet.js, which signs in ~10 ms, so the devnet is what is measured.
//
//   node bench.mjs <rpc-url> <account> <private-key> <token> <count> <sequential|pipelined>
//
// sequential: send one, wait for its receipt, send the next.
// pipelined: read the nonce once, send all with explicit nonces, then wait for every receipt.
// Fixed resource bounds and tip, so no fee estimate or tip lookup per transaction. Prints one
// JSON line: {"mode", "count", "seconds", "reverted"}.
import { Account, RpcProvider } from "starknet";

const [url, address, privateKey, token, countArg, mode] = process.argv.slice(2);
const count = Number(countArg);
const RECIPIENT = "0x5eed";
const DETAILS = {
  tip: 0n,
  resourceBounds: {
    l1_gas: { max_amount: 0n, max_price_per_unit: 10n ** 12n },
    l1_data_gas: { max_amount: 10n ** 5n, max_price_per_unit: 10n ** 12n },
    l2_gas: { max_amount: 10n ** 9n, max_price_per_unit: 10n ** 10n },
  },
};
const POLL = { retryInterval: 10 };

const provider = new RpcProvider({ nodeUrl: url });
const account = new Account({ provider, address, signer: privateKey, cairoVersion: "1" });
const call = { contractAddress: token, entrypoint: "transfer", calldata: [RECIPIENT, "1", "0"] };

async function receipt(hash) {
  const got = await provider.waitForTransaction(hash, POLL);
  return got.isReverted() ? 1 : 0;
}

let reverted = 0;
let nonce = BigInt(await account.getNonce());
// One warm-up transaction outside the timing (first-use costs in the client and the devnet).
reverted += await receipt((await account.execute(call, { ...DETAILS, nonce })).transaction_hash);
nonce += 1n;
const start = performance.now();
if (mode === "sequential") {
  for (let i = 0; i < count; i++) {
    const sent = await account.execute(call, { ...DETAILS, nonce: nonce + BigInt(i) });
    reverted += await receipt(sent.transaction_hash);
  }
} else if (mode === "pipelined") {
  const hashes = [];
  for (let i = 0; i < count; i++) {
    const sent = await account.execute(call, { ...DETAILS, nonce: nonce + BigInt(i) });
    hashes.push(sent.transaction_hash);
  }
  for (const hash of hashes) reverted += await receipt(hash);
} else {
  throw new Error(`unknown mode ${mode}`);
}
const seconds = (performance.now() - start) / 1000;
console.log(JSON.stringify({ mode, count, seconds, reverted }));
