// express-simplejwt with one SQLite file for the users and the token store (logouts and sessions survive a
// restart): `npm start`, then log in, call /hello/, log out. DB_PATH picks the file (default ./example.sqlite3).
import Database from 'better-sqlite3';
import express from 'express';
import { simpleJwt, hashPassword, SqliteStore } from 'express-simplejwt';

const db = new Database(process.env.DB_PATH || 'example.sqlite3');
db.pragma('journal_mode = WAL');
db.exec(`CREATE TABLE IF NOT EXISTS users (
  id INTEGER PRIMARY KEY, username TEXT NOT NULL UNIQUE, password TEXT NOT NULL, is_active INTEGER NOT NULL DEFAULT 1
)`);
if (!db.prepare('SELECT 1 FROM users WHERE username = ?').get('vitor')) {
  db.prepare('INSERT INTO users (username, password) VALUES (?, ?)').run('vitor', await hashPassword('123'));
}
const byName = db.prepare('SELECT id, username, password, is_active FROM users WHERE username = ?');
const byId = db.prepare('SELECT id, username, password, is_active FROM users WHERE id = ?');
const toUser = (row) => row && { id: row.id, username: row.username, password: row.password, isActive: row.is_active === 1 };

const auth = simpleJwt({
  secret: process.env.JWT_SECRET, // unset: a random secret per process, with a warning (refused in production)
  store: new SqliteStore(db), // the kit's tables beside yours, in the same file
  findUserByUsername: (username) => toUser(byName.get(username)),
  findUserById: (id) => (/^[1-9]\d*$/.test(id) ? toUser(byId.get(id)) : undefined),
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
const stop = () => server.close(() => void auth.close().finally(() => db.close()));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
