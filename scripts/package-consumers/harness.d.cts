// Types for harness.cjs, so the TypeScript consumers can call it under `strict`.
import type { Server } from 'node:http';

export interface HarnessUsers<U> {
  byName(username: string): U | undefined;
  byId(id: string): U | undefined;
}
export interface HarnessUser {
  id: number;
  username: string;
  password: string;
  isActive: boolean;
}
export declare const SECRET: string;
export declare function makeUsers(hashPassword: (password: string, rounds?: number) => Promise<string>): Promise<HarnessUsers<HarnessUser>>;
export declare function exercise(
  app: { listen(port: number, host: string): Server },
  kit: { verifyDjangoPassword(password: string, encoded: string): Promise<boolean>; AuthError: unknown },
  label: string,
): Promise<void>;
