/** Validity dates of an X509Certificate on every supported Node (validFromDate/validToDate came in 22.10). */
import type { X509Certificate } from 'node:crypto';

type WithDates = X509Certificate & { validFromDate?: Date; validToDate?: Date };

export function validFrom(certificate: X509Certificate): Date {
  return (certificate as WithDates).validFromDate ?? new Date(certificate.validFrom);
}

export function validTo(certificate: X509Certificate): Date {
  return (certificate as WithDates).validToDate ?? new Date(certificate.validTo);
}
