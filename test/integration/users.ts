import type { UserSpec } from '../../tools/envtest/control-plane.js';

/** Users every integration run has besides the admin. */
export const TEST_USERS: UserSpec[] = [
  { name: 'alice', groups: ['developers'] },
  { name: 'bob', auth: 'token' },
];
