import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { SEED_USERS, type DemoUser } from './users';

/**
 * The demo's users in a SQLite file (`DEMO_DB`, default `demo-app/demo.sqlite3`), created and seeded with the
 * tutorial's users on first start. The same file holds the token store's tables when `JWT_STORE` is `sqlite`.
 */
export class SqliteUsers {
  readonly db: Database.Database;
  private readonly byName: Database.Statement<[string], RawUser>;
  private readonly byId: Database.Statement<[string], RawUser>;
  private readonly insert: Database.Statement<[number | null, string, string, number]>;

  constructor(path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`CREATE TABLE IF NOT EXISTS users (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      username TEXT NOT NULL UNIQUE,
      password TEXT NOT NULL,
      is_active INTEGER NOT NULL DEFAULT 1
    )`);
    this.byName = this.db.prepare('SELECT id, username, password, is_active FROM users WHERE username = ?');
    this.byId = this.db.prepare('SELECT id, username, password, is_active FROM users WHERE id = ?');
    this.insert = this.db.prepare('INSERT INTO users (id, username, password, is_active) VALUES (?, ?, ?, ?)');
    // Seed users missing from the file (a database from an older demo gets the admin user too).
    const seed = this.db.prepare('INSERT OR IGNORE INTO users (id, username, password, is_active) VALUES (?, ?, ?, ?)');
    for (const user of SEED_USERS) seed.run(user.id, user.username, user.password, user.isActive ? 1 : 0);
  }

  findByUsername(username: string): DemoUser | undefined {
    return toUser(this.byName.get(username));
  }

  findById(id: string): DemoUser | undefined {
    // Only the canonical spelling: SQLite compares the text '01' equal to the integer id 1.
    return /^[1-9]\d{0,14}$/.test(id) ? toUser(this.byId.get(id)) : undefined;
  }

  /** Adds a user; returns its id. Throws when the username is taken. */
  create(username: string, passwordHash: string, isActive = true): number {
    return Number(this.insert.run(null, username, passwordHash, isActive ? 1 : 0).lastInsertRowid);
  }

  close(): void {
    this.db.close();
  }
}

interface RawUser {
  id: number;
  username: string;
  password: string;
  is_active: number;
}

function toUser(row: RawUser | undefined): DemoUser | undefined {
  return row && { id: row.id, username: row.username, password: row.password, isActive: row.is_active === 1 };
}
