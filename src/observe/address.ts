/**
 * Listen addresses written the Go way, as the operator's flags take them: `:8080` (every
 * interface), `127.0.0.1:8080`, `[::1]:8080`, port 0 for an ephemeral port; `0` or empty disables.
 */

interface ListenAddress {
  /** undefined: every interface. */
  host: string | undefined;
  port: number;
}

function invalid(address: string, why: string): Error {
  return new Error(
    `invalid listen address "${address}": ${why} (expected host:port or :port, or 0 to disable)`,
  );
}

/** Parses a listen address; null when the server is disabled (`0` or empty). */
export function parseListenAddress(address: string): ListenAddress | null {
  const text = address.trim();
  if (text === '' || text === '0') return null;
  const colon = text.lastIndexOf(':');
  if (colon < 0) throw invalid(address, 'missing port');
  let host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  else if (host.includes(':')) throw invalid(address, 'IPv6 hosts must be in brackets');
  if (host.includes('[') || host.includes(']')) throw invalid(address, 'unbalanced brackets');
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535)
    throw invalid(address, `bad port "${portText}"`);
  return { host: host === '' ? undefined : host, port: Number(portText) };
}

/** `host:port` for messages, with IPv6 hosts in brackets. */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
