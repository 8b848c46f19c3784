/**
 * The tutorial's users, and the admin of the lifetimes router. Passwords are stored as bcrypt hashes (cost 10):
 * `vitor` and `sleeper` have `123`, `admin` has `admin-demo-password`.
 */
export interface DemoUser {
  id: number;
  username: string;
  password: string;
  isActive: boolean;
}

export const SEED_USERS: readonly DemoUser[] = [
  { id: 1, username: 'vitor', password: '$2b$10$FkFyP9eFCCdNTV4ifnwbYeCaLkmkA.qA0AJFKWw.3rQe6XQIsQsWy', isActive: true },
  { id: 2, username: 'sleeper', password: '$2b$10$JBcLMREenxbUaf9F/grMTufXx5Tx994AF.4/goFR8qd9rbrQ.RJg6', isActive: false },
  { id: 3, username: 'admin', password: '$2b$10$OHGPyxdBWjLtaQeK9HAY.uxHoFlU6rDXipJSuTV0NOw992yJ3lXO6', isActive: true },
];

/** Who may read and change the token lifetimes in the demo (`/api/admin/token-lifetimes/`). */
export function isDemoAdmin(user: DemoUser): boolean {
  return user.username === 'admin';
}

/** An in-memory user table with the two look-ups the kit calls back into. */
export class UserTable {
  private readonly byId = new Map<string, DemoUser>();
  private readonly byName = new Map<string, DemoUser>();

  constructor(users: readonly DemoUser[] = SEED_USERS) {
    for (const user of users) this.add({ ...user });
  }

  add(user: DemoUser): void {
    this.byId.set(String(user.id), user);
    this.byName.set(user.username, user);
  }

  findByUsername(username: string): DemoUser | undefined {
    return this.byName.get(username);
  }

  findById(id: string): DemoUser | undefined {
    return this.byId.get(id);
  }
}
