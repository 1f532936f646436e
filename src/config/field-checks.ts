/**
 * Value predicates behind the ClusterConfiguration validation. Each returns undefined when the
 * value is acceptable, else a short reason ("is not a whole number").
 */
import { BlockList, isIP } from 'node:net';
import { tryParseQuantity } from './quantity.js';

/** A whole number (or a string of digits, which the original's templates printed unquoted) ≥ 0. */
export function asNonNegativeInteger(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : undefined;
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return undefined;
}

export function portReason(value: unknown): string | undefined {
  const port = asNonNegativeInteger(value);
  return port !== undefined && port >= 1 && port <= 65535 ? undefined : 'is not a port number (1-65535)';
}

export function quantityReason(value: unknown, { positive = false } = {}): string | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return 'is not a Kubernetes quantity';
  const parsed = tryParseQuantity(value);
  if (parsed === undefined) return 'is not a Kubernetes quantity';
  if (parsed < 0) return 'is negative';
  if (positive && parsed === 0) return 'is zero';
  return undefined;
}

/** Prometheus durations as the Prometheus CRD accepts them: `0` or units y w d h m s ms in this order. */
const DURATION = /^(0|(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?)$/;

export function durationReason(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '' || !DURATION.test(value))
    return 'is not a Prometheus duration';
  return undefined;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function dnsSubdomainReason(value: string): string | undefined {
  return value.length <= 253 && DNS_SUBDOMAIN.test(value)
    ? undefined
    : 'is not a valid name (lower-case letters, digits, "-" and ".")';
}

function blockList(entries: [string, number][], family: 'ipv4' | 'ipv6'): BlockList {
  const list = new BlockList();
  for (const [address, prefix] of entries) list.addSubnet(address, prefix, family);
  return list;
}

/** Addresses the API server refuses in Endpoints (ValidateEndpointIP). */
const REFUSED_ENDPOINT_IPS: { ipv4: BlockList; ipv6: BlockList; reason: string }[] = [
  {
    ipv4: blockList([['0.0.0.0', 32]], 'ipv4'),
    ipv6: blockList([['::', 128]], 'ipv6'),
    reason: 'is the unspecified address',
  },
  {
    ipv4: blockList([['127.0.0.0', 8]], 'ipv4'),
    ipv6: blockList([['::1', 128]], 'ipv6'),
    reason: 'is a loopback address',
  },
  {
    ipv4: blockList(
      [
        ['169.254.0.0', 16],
        ['224.0.0.0', 24],
      ],
      'ipv4',
    ),
    ipv6: blockList(
      [
        ['fe80::', 10],
        ['ff02::', 16],
      ],
      'ipv6',
    ),
    reason: 'is a link-local address',
  },
];

/** Why an etcd endpoint address cannot go into an Endpoints object, or undefined when it can. */
export function endpointIpReason(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return 'is not an IPv4 or IPv6 address';
  for (const refused of REFUSED_ENDPOINT_IPS) {
    const blocked = family === 4 ? refused.ipv4.check(address, 'ipv4') : refused.ipv6.check(address, 'ipv6');
    if (blocked) return refused.reason;
  }
  return undefined;
}

/** A label value as the API server accepts it (IsValidLabelValue): at most 63 characters. */
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

export function labelValueReason(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63) return 'is longer than 63 characters (the limit of a label value)';
  return LABEL_NAME.test(value)
    ? undefined
    : 'is not a label value (letters, digits, "-", "_" and ".", starting and ending with a letter or digit)';
}

/** A label key (IsQualifiedName): `[prefix/]name`, the prefix a DNS subdomain, the name at most 63 characters. */
export function labelKeyReason(key: string): string | undefined {
  const parts = key.split('/');
  if (parts.length > 2) return 'is not a label key (at most one "/")';
  const name = parts.pop()!;
  const prefix = parts[0];
  if (prefix !== undefined && dnsSubdomainReason(prefix) !== undefined)
    return 'is not a label key (the prefix before "/" must be a DNS subdomain, lower case)';
  if (name === '' || name.length > 63) return 'is not a label key (the name must have 1 to 63 characters)';
  return LABEL_NAME.test(name)
    ? undefined
    : 'is not a label key (letters, digits, "-", "_" and ".", starting and ending with a letter or digit)';
}

/** An image reference is at most 255 characters; the registry keeps room for the path, name and tag. */
const MAX_REGISTRY_LENGTH = 200;
const MAX_IMAGE_REPOSITORY_LENGTH = 255 - 129;

/** A repository without tag or digest: `[registry[:port]/]path/name`. */
export function imageRepositoryReason(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'is not a string';
  if (/\s/.test(value) || value === '') return 'is not an image repository';
  if (value.length > MAX_IMAGE_REPOSITORY_LENGTH)
    return `is longer than ${MAX_IMAGE_REPOSITORY_LENGTH} characters (an image reference has at most 255, with the tag)`;
  if (value.includes('@')) return 'contains a digest; the tag has its own key';
  const lastSegment = value.split('/').pop() ?? '';
  if (lastSegment.includes(':')) return 'contains a tag; the tag has its own key';
  if (!/^[A-Za-z0-9._\-/:]+$/.test(value)) return 'is not an image repository';
  return undefined;
}

export function imageTagReason(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'is not a string (quote it, e.g. "v2.39.1")';
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(value) ? undefined : 'is not an image tag';
}

/** host[:port][/path]: host components of letters, digits and "-"; path components lower case. */
const REGISTRY =
  /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*(:\d{1,5})?(\/[a-z0-9]+([._-]+[a-z0-9]+)*)*\/?$/;

/** A registry host (with optional port and path), written without a scheme. */
export function registryReason(value: string): string | undefined {
  if (/^[a-z]+:\/\//i.test(value)) return 'starts with a scheme';
  if (/\s/.test(value)) return 'contains white space';
  if (value.length > MAX_REGISTRY_LENGTH)
    return `is longer than ${MAX_REGISTRY_LENGTH} characters (an image reference has at most 255)`;
  if (!REGISTRY.test(value)) return 'is not a registry host[:port][/path]';
  return undefined;
}

/** A registry namespace (organization): lower-case path components, e.g. kubesphereio. */
export function registryNamespaceReason(value: string): string | undefined {
  if (value.length > 128) return 'is longer than 128 characters';
  return /^[a-z0-9]+([._-]+[a-z0-9]+)*(\/[a-z0-9]+([._-]+[a-z0-9]+)*)*$/.test(value)
    ? undefined
    : 'is not a registry namespace (lower-case letters, digits, ".", "_" and "-")';
}
