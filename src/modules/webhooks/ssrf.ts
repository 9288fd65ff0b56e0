import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import { isPrivateAddress } from './model.ts';

export class RefusedTarget extends Error {
  constructor(
    readonly host: string,
    readonly address: string,
  ) {
    super(`${host} resolves to ${address}, a loopback, link-local or private address (set WEBHOOKS_ALLOW_PRIVATE=true to allow)`);
    this.name = 'RefusedTarget';
  }
}

export const isRefusedLiteral = (ip: string, allowPrivate: boolean) => !allowPrivate && isPrivateAddress(ip);

/** Every address `host` resolves to (an IP literal: itself). */
export async function resolveAll(host: string): Promise<string[]> {
  const bare = host.replace(/^\[|\]$/g, '');
  if (isIP(bare)) return [bare];
  return new Promise((resolve, reject) =>
    dnsLookup(bare, { all: true }, (err, addresses: LookupAddress[]) => (err ? reject(err) : resolve(addresses.map((a) => a.address)))),
  );
}

/** Throws RefusedTarget when any address of `host` is private (unless allowed). */
export async function checkHost(host: string, allowPrivate: boolean): Promise<string[]> {
  const addresses = await resolveAll(host);
  if (!allowPrivate) for (const a of addresses) if (isPrivateAddress(a)) throw new RefusedTarget(host, a);
  return addresses;
}

/**
 * A `lookup` for http.request that checks what it resolves, at connection time: a name that
 * resolved to a public address when the webhook was saved and to 127.0.0.1 now (DNS rebinding) is
 * refused then too, and the connection goes to the very address that was checked.
 */
export function guardedLookup(allowPrivate: boolean) {
  return (
    hostname: string,
    options: unknown,
    callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void,
  ) => {
    checkHost(hostname, allowPrivate).then(
      (addresses) => {
        const all = (options as { all?: boolean } | undefined)?.all;
        const list = addresses.map((address) => ({ address, family: isIP(address) === 6 ? 6 : 4 }));
        if (all) callback(null, list);
        else callback(null, list[0]!.address, list[0]!.family);
      },
      (err: Error) => callback(err, ''),
    );
  };
}
