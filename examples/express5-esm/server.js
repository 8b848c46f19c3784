// express-simplejwt with Express 5 and ES modules: `npm start`, then log in, call /hello/, log out.
import express from 'express';
import { simpleJwt, hashPassword } from 'express-simplejwt';

// Your users table: the kit needs an id, a bcrypt hash and an "is active" flag (the property names are configurable).
const users = [{ id: 1, username: 'vitor', password: await hashPassword('123'), isActive: true }];

const auth = simpleJwt({
  secret: process.env.JWT_SECRET, // unset: a random secret per process, with a warning (refused in production)
  findUserByUsername: (username) => users.find((user) => user.username === username),
  findUserById: (id) => users.find((user) => String(user.id) === id),
});

const app = express();
app.use('/api/token', auth.router); // POST /api/token/ (log in), /refresh/, /verify/, /blacklist/ (log out)
app.get('/hello/', auth.authenticate(), (req, res) => {
  res.json({ message: `Hello, ${req.user.username}!` });
});

const port = Number(process.env.PORT || 3000);
const server = app.listen(port, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
const stop = () => server.close(() => void auth.close());
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
