// express-simplejwt with the token store in a Redis Cluster, shared by every app server: `npm start`, then log in,
// call /hello/, log out. REDIS_CLUSTER_NODES lists some of its nodes, host:port,host:port (default 127.0.0.1:7000).
import express from 'express';
import { Cluster } from 'ioredis';
import { simpleJwt, hashPassword, RedisStore } from 'express-simplejwt';

// ioredis needs only a few nodes to start with: it asks them for the rest of the cluster and routes each command.
const nodes = (process.env.REDIS_CLUSTER_NODES || '127.0.0.1:7000').split(',').map((node) => {
  const at = node.trim().lastIndexOf(':');
  return { host: node.trim().slice(0, at), port: Number(node.trim().slice(at + 1)) };
});
const redis = new Cluster(nodes, { redisOptions: { maxRetriesPerRequest: 1 } });
redis.on('error', (err) => console.error(`redis cluster: ${err.message}`)); // without a listener, an outage crashes the app

// Your users table: the kit needs an id, a bcrypt hash and an "is active" flag (the property names are configurable).
const users = [{ id: 1, username: 'vitor', password: await hashPassword('123'), isActive: true }];

const auth = simpleJwt({
  secret: process.env.JWT_SECRET, // every app server needs the same one; unset: a random one, with a warning
  store: new RedisStore(redis), // every key of one user shares a hash tag, so each event runs on one node
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
