/**
 * Grafana's admin password when no live one can be kept: 24 random bytes, base64url (32 characters).
 * A source generates at most one per process, so that runs before the Secret exists plan the same
 * objects; once applied, the live Secret grafana-admin is what every later run keeps.
 */
import { randomBytes } from 'node:crypto';

export function generateGrafanaPassword(): string {
  return randomBytes(24).toString('base64url');
}
