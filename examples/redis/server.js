// express-simplejwt with the token store in Redis, shared by every app server: `npm start`, then log in, call
// /hello/, log out. REDIS_URL picks the server (default redis://127.0.0.1:6379).
import express from 'express';
import { Redis } from 'ioredis';
import { simpleJwt, hashPassword, RedisStore } from 'express-simplejwt';

const redis = new Redis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });
redis.on('error', (err) => console.error(`redis: ${err.message}`)); // without a listener, an outage crashes the app

// Your users table: the kit needs an id, a bcrypt hash and an "is active" flag (the property names are configurable).
const users = [{ id: 1, username: 'vitor', password: await hashPassword('123'), isActive: true }];

const auth = simpleJwt({
  secret: process.env.JWT_SECRET, // every app server needs the same one; unset: a random one, with a warning
  store: new RedisStore(redis),
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
const stop = () => server.close(() => void auth.close().finally(() => redis.quit()));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
