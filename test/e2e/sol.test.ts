/**
 * SOL end to end with the built CLI, a real SoftHSM2 token, the fake Tatum API and the fake
 * Solana node behind Tatum's SOL RPC (/v3/blockchain/node/SOL/{apiKey}): the daemon takes
 * Tatum's pending payloads (transfer, transfer with a separate fee payer, SPL transfer with
 * the recipient's token account created, a mnemonic wallet at an index), puts a fresh
 * blockhash in, signs every required signature (stored keys in the token with CKM_EDDSA,
 * mnemonic children on the host), submits the transaction through the SOL RPC and posts its
 * signature as txData to /v3/solana/broadcast, as Tatum KMS does. web3.js decodes each
 * submitted transaction and verifies its signatures. Refusals reach the error batch. The
 * wallet commands make, store and show SOL wallets in Tatum's formats.
 */
import { Transaction, TransactionInstruction } from '@solana/web3.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chainKit } from '../../src/chains/kit.js';
import { base58Encode } from '../../src/chains/keys.js';
import { associatedTokenAddress } from '../../src/chains/sol/sign.js';
import { prepareImportedPrivateKey } from '../../src/vault/tatum-wallets.js';
import { runCli } from '../support/cli.js';
import { FakeSolanaRpc } from '../support/sol-rpc.js';
import { solKeypair, solPayloadOf, solTransferPayload, splTransferPayload } from '../support/sol.js';
import { FakeTatumApi } from '../../scripts/lib/tatum-api-server.js';
import { createTestVault, TEST_PASSWORD, type TestVault } from '../support/vault.js';
import { ABANDON, addMnemonic, explain, journalRows, runDaemon } from './support.js';

const ME = solKeypair(0x11);
const PAYER = solKeypair(0x12);
const DEST = solKeypair(0x13).publicKey.toBase58();
const MINT = solKeypair(0x14).publicKey.toBase58();
/** abandon…about at m/44'/501'/0'/0'/2' */
let HD2: string;

describe('SOL end to end', { timeout: 240_000 }, () => {
  let api: FakeTatumApi;
  let sol: FakeSolanaRpc;
  let tv: TestVault;
  let me: string;
  let payer: string;
  let hd: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    tv = await createTestVault({ testnetOnly: true });
    const kit = chainKit('SOL');
    const add = (secret: Uint8Array): string => {
      const row = prepareImportedPrivateKey(tv.vault, kit, true, base58Encode(secret));
      tv.vault.store.addEntries([row]);
      return row.signatureId;
    };
    me = add(ME.secretKey);
    payer = add(PAYER.secretKey);
    hd = addMnemonic(tv.vault, 'SOL', true, ABANDON);
    const seed = (await import('../../src/chains/mnemonic.js')).mnemonicToSeed(Buffer.from(ABANDON));
    HD2 = kit.addressFromPublicKey(
      Buffer.from(kit.publicKeyFromPrivateKey(kit.privateKeyFromSeed(seed, 2, true))),
      true,
    );
    tv.vault.seal('test setup');
    sol = new FakeSolanaRpc();
    api = await FakeTatumApi.start({ solana: sol });
    env = { ...tv.token.env, TATUM_KMS_PASSWORD: TEST_PASSWORD };
  });
  afterAll(async () => {
    await api?.stop();
  });

  const once = () => runDaemon(tv, api, ['--runOnce', '--testnet', '--chain', 'SOL']);
  const posted = (id: string) => api.broadcasts.find((b) => b.signatureId === id)?.txData;
  const submitted = (id: string) => {
    const sig = posted(id);
    const t = sol.transactions.find((x) => x.signature === sig);
    return t === undefined ? undefined : Transaction.from(t.wire);
  };
  const errorOf = (id: string) => api.errorReports.filter((e) => e.signatureId === id).map((e) => e.error);

  it('signs a transfer, a transfer with a separate fee payer, an SPL transfer and a mnemonic child; submits through the SOL RPC; posts the signature', async () => {
    sol.tokenAccounts.set(associatedTokenAddress(ME.publicKey.toBase58(), MINT), {
      mint: MINT,
      owner: ME.publicKey.toBase58(),
      amount: 1000n,
      decimals: 6,
    });
    const plain = api.queue({
      chain: 'SOL',
      hashes: [me],
      serializedTransaction: solTransferPayload({ from: ME.publicKey.toBase58(), to: DEST, lamports: 1_000_000n }),
    });
    const fee = api.queue({
      chain: 'SOL',
      hashes: [me, payer],
      serializedTransaction: solTransferPayload({
        from: ME.publicKey.toBase58(),
        to: DEST,
        lamports: 5n,
        feePayer: PAYER.publicKey.toBase58(),
      }),
    });
    const spl = api.queue({
      chain: 'SOL',
      hashes: [me],
      serializedTransaction: splTransferPayload({
        from: ME.publicKey.toBase58(),
        to: DEST,
        mint: MINT,
        amount: 250n,
        createAta: true,
      }),
    });
    const child = api.queue({
      chain: 'SOL',
      hashes: [],
      signatures: [{ id: hd, index: 2 }],
      serializedTransaction: solTransferPayload({ from: HD2, to: DEST, lamports: 9n }),
    });
    const r = await once();
    expect(r.code, explain(r)).toBe(0);
    for (const id of [plain, fee, spl, child]) {
      const tx = submitted(id);
      expect(tx, `${id} ${explain(r)}`).toBeDefined();
      expect(tx!.verifySignatures()).toBe(true);
      expect(tx!.recentBlockhash).toBe(sol.blockhash);
      // What Tatum gets is the signature, not the transaction (the signer submitted it).
      expect(posted(id)).toBe(base58Encode(tx!.signatures[0]!.signature!));
    }
    expect(submitted(fee)!.feePayer?.toBase58()).toBe(PAYER.publicKey.toBase58());
    expect(submitted(fee)!.signatures.map((s) => s.publicKey.toBase58())).toEqual([
      PAYER.publicKey.toBase58(),
      ME.publicKey.toBase58(),
    ]);
    expect(submitted(child)!.feePayer?.toBase58()).toBe(HD2);
    expect(submitted(spl)!.instructions.map((i) => i.programId.toBase58())).toEqual([
      'ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL',
      'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA',
    ]);
    expect(api.requests.some((q) => q.path === `/v3/blockchain/node/SOL/${api.apiKey}`)).toBe(true);
    expect(api.requests.filter((q) => q.path === '/v3/solana/broadcast')).toHaveLength(4);
  });

  it('the same payload twice gives the same bytes (ed25519 in the token is deterministic); the node already has it, which counts as sent', async () => {
    const st = solTransferPayload({ from: ME.publicKey.toBase58(), to: DEST, lamports: 77n });
    const a = api.queue({ chain: 'SOL', hashes: [me], serializedTransaction: st });
    const b = api.queue({ chain: 'SOL', hashes: [me], serializedTransaction: st });
    const r = await once();
    expect(r.code, explain(r)).toBe(0);
    const rows = journalRows(tv);
    expect(rows.get(a)!.rawTx).toBe(rows.get(b)!.rawTx);
    expect(posted(a)).toBe(posted(b));
  });

  it('a send that failed is sent again unchanged; one the node took although its answer was lost counts as sent; one whose blockhash expired is TX_NEVER_MINABLE, never re-signed', async () => {
    const lost = api.queue({
      chain: 'SOL',
      hashes: [me],
      serializedTransaction: solTransferPayload({ from: ME.publicKey.toBase58(), to: DEST, lamports: 101n }),
    });
    sol.loseAnswers = 1;
    const r1 = await once();
    expect(r1.code).not.toBe(0);
    const taken = sol.transactions.length;
    const r2 = await once();
    expect(r2.code, explain(r2)).toBe(0);
    expect(sol.transactions.length).toBe(taken); // "already processed": not a second transaction
    expect(posted(lost)).toBe(journalRows(tv).get(lost)!.chainTxId);

    const stale = api.queue({
      chain: 'SOL',
      hashes: [me],
      serializedTransaction: solTransferPayload({ from: ME.publicKey.toBase58(), to: DEST, lamports: 102n }),
    });
    sol.failSends = 1;
    await once();
    const raw = journalRows(tv).get(stale)!.rawTx;
    expect(raw).toBeDefined();
    sol.expireAll();
    const r3 = await once();
    expect(r3.code).not.toBe(0);
    expect(errorOf(stale).at(-1)).toMatch(/^TX_NEVER_MINABLE: .*blockhash expired/);
    expect(journalRows(tv).get(stale)!.rawTx).toBe(raw);
    expect(posted(stale)).toBeUndefined();
  });

  it('refuses, through the error batch: a fee payer that is not ours, a wallet that is not a signer, an instruction of an unknown program', async () => {
    const foreign = api.queue({
      chain: 'SOL',
      hashes: [me],
      serializedTransaction: solTransferPayload({
        from: ME.publicKey.toBase58(),
        to: DEST,
        lamports: 5n,
        feePayer: solKeypair(0x66).publicKey.toBase58(),
      }),
    });
    const notSigner = api.queue({
      chain: 'SOL',
      hashes: [me, payer],
      serializedTransaction: solTransferPayload({ from: ME.publicKey.toBase58(), to: DEST, lamports: 5n }),
    });
    const unknown = api.queue({
      chain: 'SOL',
      hashes: [me],
      serializedTransaction: solPayloadOf(ME.publicKey.toBase58(), [
        new TransactionInstruction({
          programId: solKeypair(0x67).publicKey,
          keys: [{ pubkey: ME.publicKey, isSigner: true, isWritable: true }],
          data: Buffer.from([1, 2, 3, 4]),
        }),
      ]),
    });
    const before = sol.transactions.length;
    const r = await once();
    expect(r.code).not.toBe(0);
    expect(errorOf(foreign)).toEqual([
      expect.stringMatching(
        /^TX_PAYLOAD_MISMATCH: SOL payload: the fee payer \w+ is not one of this transaction's wallets/,
      ),
    ]);
    expect(errorOf(notSigner)).toEqual([
      expect.stringMatching(/^TX_PAYLOAD_MISMATCH: SOL payload: wallet \w+ is not a signer of this transaction/),
    ]);
    expect(errorOf(unknown)).toEqual([
      expect.stringMatching(
        /^POLICY_VIOLATION: a contract call \(selector 0x01020304\) to \w+ with unknown calldata is not allowed/,
      ),
    ]);
    expect(sol.transactions.length).toBe(before);
  });

  it('generatemanagedwallet SOL makes the key in the token; storemanagedwallet SOL keeps the mnemonic; getaddress/getprivatekey/getmanagedwallet in Tatum formats; both sign', async () => {
    const cli = (args: string[], input?: string) =>
      runCli([...args, '--path', tv.path], { env, ...(input === undefined ? {} : { input }) });
    const g = await cli(['generatemanagedwallet', 'SOL', '--testnet']);
    expect(g.code, g.stderr).toBe(0);
    expect(g.stderr).not.toMatch(/does not sign/);
    const gen = g.json() as { signatureId: string; address: string };
    const view = (await cli(['getmanagedwallet', gen.signatureId])).json() as Record<string, unknown>;
    expect(Object.keys(view)).toEqual(['privateKey', 'address', 'chain', 'testnet']);
    expect(view.address).toBe(gen.address);
    const s = await cli(['storemanagedwallet', 'SOL', '--testnet'], `${ABANDON}\n`);
    expect(s.code, s.stderr).toBe(0);
    const stored = s.json() as { signatureId: string; address: string };
    expect(stored.address).toBe('B9sVeu4rJU12oUrUtzjc6BSNuEXdfvurZkdcaTVkP2LY');
    expect((await cli(['getaddress', stored.signatureId, '2'])).json()).toEqual({ address: HD2 });
    const pk = (await cli(['getprivatekey', stored.signatureId, '2'])).json() as { privateKey: string };
    expect(pk.privateKey).toMatch(/^[1-9A-HJ-NP-Za-km-z]{86,88}$/);
    const mview = (await cli(['getmanagedwallet', stored.signatureId])).json() as Record<string, unknown>;
    expect(Object.keys(mview)).toEqual(['mnemonic', 'address', 'privateKey', 'chain', 'testnet']);
    expect(mview.address).toBe('B9sVeu4rJU12oUrUtzjc6BSNuEXdfvurZkdcaTVkP2LY');
    // Named in hashes with no index: index 0, the key Tatum's generated SOL wallets hold.
    const byGen = api.queue({
      chain: 'SOL',
      hashes: [gen.signatureId],
      serializedTransaction: solTransferPayload({ from: gen.address, to: DEST, lamports: 3n }),
    });
    const byHd = api.queue({
      chain: 'SOL',
      hashes: [stored.signatureId],
      serializedTransaction: solTransferPayload({ from: stored.address, to: DEST, lamports: 4n }),
    });
    const r = await once();
    expect(submitted(byGen), explain(r)).toBeDefined();
    expect(submitted(byGen)!.verifySignatures()).toBe(true);
    expect(submitted(byHd)!.verifySignatures()).toBe(true);
  });
});
