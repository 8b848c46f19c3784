// express-simplejwt with the token store in PostgreSQL, shared by every app server: `npm start`, then log in, call
// /hello/, log out. DATABASE_URL picks the database (default postgres://postgres@127.0.0.1:5432/postgres).
import express from 'express';
import { simpleJwt, hashPassword, PostgresStore } from 'express-simplejwt';

// The store opens its own pg pool from the URL and creates its tables (prefixed sjwt_) at start-up.
const store = new PostgresStore(process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres');

// Your users table: the kit needs an id, a bcrypt hash and an "is active" flag (the property names are configurable).
const users = [{ id: 1, username: 'vitor', password: await hashPassword('123'), isActive: true }];

const auth = simpleJwt({
  secret: process.env.JWT_SECRET, // every app server needs the same one; unset: a random one, with a warning
  store,
  findUserByUsername: (username) => users.find((user) => user.username === username),
  findUserById: (id) => users.find((user) => String(user.id) === id),
});

const app = express();
app.use('/api/token', auth.router); // POST /api/token/ (log in), /refresh/, /verify/, /blacklist/ (log out), /sessions/
app.get('/hello/', auth.authenticate(), (req, res) => {
  res.json({ message: `Hello, ${req.user.username}!` });
});

const port = Number(process.env.PORT || 3000);
const server = app.listen(port, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
const stop = () => server.close(() => void auth.close()); // auth.close() closes the store, which ends its pool
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
