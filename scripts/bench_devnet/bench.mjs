// The fast client of scripts/bench_devnet.py: small invokes through starknet.js, which signs in
// ~10 ms, so the devnet is what is measured. The call is the script's to choose (by default
// `increase(1)` on the Counter it deployed; with --invoke transfer a one-unit STRK `transfer`).
//
//   node bench.mjs <rpc-url> <account> <private-key> <call-json> <count> <sequential|pipelined>
//
// <call-json>: one starknet.js Call, {"contractAddress", "entrypoint", "calldata"}.
// sequential: send one, wait for its receipt, send the next.
// pipelined: read the nonce once, send all with explicit nonces, then wait for every receipt.
// Fixed resource bounds and tip, so no fee estimate or tip lookup per transaction. Prints one
// JSON line: {"mode", "count", "sent", "seconds", "reverted"}; `sent` counts the untimed warm-up
// transaction too, so the script can check on chain that exactly that many calls took effect.
import { Account, RpcProvider } from "starknet";

const [url, address, privateKey, callJson, countArg, mode] = process.argv.slice(2);
const count = Number(countArg);
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
const call = JSON.parse(callJson);

async function receipt(hash) {
  const got = await provider.waitForTransaction(hash, POLL);
  return got.isSuccess() ? 0 : 1;
}

if (mode !== "sequential" && mode !== "pipelined") throw new Error(`unknown mode ${mode}`);
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
} else {
  const hashes = [];
  for (let i = 0; i < count; i++) {
    const sent = await account.execute(call, { ...DETAILS, nonce: nonce + BigInt(i) });
    hashes.push(sent.transaction_hash);
  }
  for (const hash of hashes) reverted += await receipt(hash);
}
const seconds = (performance.now() - start) / 1000;
console.log(JSON.stringify({ mode, count, sent: count + 1, seconds, reverted }));
