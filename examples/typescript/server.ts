// express-simplejwt in strict TypeScript: `npm start` (tsx runs it), `npm run typecheck` (tsc checks it).
import express from 'express';
import { simpleJwt, hashPassword } from 'express-simplejwt';

interface AppUser {
  id: number;
  username: string;
  password: string; // a bcrypt hash
  isActive: boolean;
}

// `req.user` is the kit's user in every handler behind authenticate().
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface User extends AppUser {}
  }
}

const users: AppUser[] = [{ id: 1, username: 'vitor', password: await hashPassword('123'), isActive: true }];

const auth = simpleJwt<AppUser>({
  secret: process.env.JWT_SECRET, // unset: a random secret per process, with a warning (refused in production)
  findUserByUsername: (username) => users.find((user) => user.username === username),
  findUserById: (id) => users.find((user) => String(user.id) === id),
});

const app = express();
app.use('/api/token', auth.router); // POST /api/token/ (log in), /refresh/, /verify/, /blacklist/ (log out)
app.get('/hello/', auth.authenticate(), (req, res) => {
  res.json({ message: `Hello, ${req.user!.username}!` });
});

const port = Number(process.env.PORT || 3000);
const server = app.listen(port, '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`);
});
const stop = () => server.close(() => void auth.close());
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
