import express5 from 'express';
import type { Express } from 'express';
import supertest from 'supertest';
import { simpleJwt, type Options, type SimpleJwt } from '../../lib';
import { UserTable, type DemoUser } from '../../demo-app/users';

// Express 4 is installed under an alias so both majors run in one suite.
const express4 = require('express4') as typeof express5;

/** A fixed 64-byte test secret (never used outside tests). */
export const SECRET = 'test-secret-0123456789abcdef-0123456789abcdef-0123456789abcdef-xyz';

/** A clock the test moves by hand (milliseconds). */
export function manualClock(start = Date.UTC(2026, 0, 1, 12, 0, 0)) {
  let now = start;
  return {
    now: () => now,
    advance(seconds: number) {
      now += seconds * 1000;
    },
    set(ms: number) {
      now = ms;
    },
  };
}

/** A logger that remembers what it was told. */
export function memoryLogger() {
  const lines: string[] = [];
  return { lines, warn: (m: string) => void lines.push(`warn ${m}`), error: (m: string) => void lines.push(`error ${m}`) };
}

export interface TestApp {
  app: Express;
  auth: SimpleJwt;
  users: UserTable;
  /** What the kit logged, unless the test passed its own `logger`. */
  log: string[];
  /** supertest bound to `app`: `request.post('/api/token/')`. */
  request: ReturnType<typeof supertest>;
  /** Closes the kit (store timers, connections, the password pool). */
  close(): Promise<void>;
}

/** Options that bring their own keys: the test secret is not added to them. */
const KEY_OPTIONS = ['secret', 'signingKey', 'verifyingKey', 'keys', 'jwksUri'] as const;

/**
 * The one builder of the app under test: a real Express app as a host would write it, the router under
 * /api/token, /hello/ behind authenticate() (also /maybe/ optional and /stateless/). Signs with the test secret
 * unless `options` names its own keys (`secret`, `signingKey`, `verifyingKey`, `keys`, `jwksUri`; pass
 * `secret: undefined` for none). `major` picks Express 5 (default) or 4. Tests of the demo app use
 * tests/helpers/demo.ts (the real process) or tests/security/harness.ts (`createDemoApp` in-process) instead.
 */
export function makeApp(
  options: Partial<Options<DemoUser>> = {},
  { major = 5, hostJson = false }: { major?: 4 | 5; hostJson?: boolean } = {},
): TestApp {
  const users = new UserTable();
  const logger = memoryLogger();
  const ownKeys = KEY_OPTIONS.some((name) => name in options);
  const auth = simpleJwt<DemoUser>({
    logger,
    ...(ownKeys ? {} : { secret: SECRET }),
    loginThrottle: false,
    warnings: false,
    bcryptRounds: 4,
    findUserByUsername: (name) => users.findByUsername(name),
    findUserById: (id) => users.findById(id),
    ...options,
  });
  const app = (major === 4 ? express4 : express5)();
  if (hostJson) app.use((major === 4 ? express4 : express5).json());
  app.use('/api/token', auth.router);
  app.get('/hello/', auth.authenticate(), (req, res) => {
    res.json({ message: 'Hello, World!' });
  });
  app.get('/maybe/', auth.authenticate({ optional: true }), (req, res) => {
    res.json({ user: req.user ? (req.user as { id: unknown }).id : null });
  });
  app.get('/stateless/', auth.authenticate({ stateless: true }), (req, res) => {
    res.json({ user: req.user, auth: req.auth });
  });
  return { app, auth, users, log: logger.lines, request: supertest(app), close: () => auth.close() };
}
