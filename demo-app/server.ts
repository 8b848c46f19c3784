import type { Algorithm } from '../lib';
import { createDemoApp } from './app';

/** `--jwt-secret VALUE` or `--jwt-secret=VALUE` wins over `JWT_SECRET` and `JWT_SECRET_FILE`, as AyaNova's command line does. */
function flag(name: string): string | undefined {
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === `--${name}`) return args[i + 1];
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
  }
  return undefined;
}

/** An environment variable, with an empty value taken as unset. */
function setting(name: string): string | undefined {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

function main(): void {
  const env = process.env;
  const port = Number(env.PORT ?? 8000);
  const host = env.HOST ?? '127.0.0.1';
  const throttle = env.JWT_LOGIN_THROTTLE;
  let app;
  try {
    const audience = setting('JWT_AUDIENCE');
    app = createDemoApp({
      // The flag wins; without it the kit reads JWT_SECRET or JWT_SECRET_FILE itself (and refuses both at once).
      secret: flag('jwt-secret'),
      algorithm: setting('JWT_ALGORITHM') as Algorithm | undefined,
      signingKey: setting('JWT_SIGNING_KEY_FILE'),
      verifyingKey: setting('JWT_VERIFYING_KEY_FILE'),
      audience: audience?.includes(',') ? audience.split(',').map((a) => a.trim()) : audience,
      issuer: setting('JWT_ISSUER'),
      accessTokenLifetime: env.JWT_ACCESS_TOKEN_LIFETIME,
      refreshTokenLifetime: env.JWT_REFRESH_TOKEN_LIFETIME,
      loginThrottle: throttle === undefined ? undefined : throttle === 'off' ? false : throttle,
    });
  } catch (err) {
    console.error(`demo-app: ${(err as Error).message}`);
    process.exit(2);
  }
  const server = app.listen(port, host, () => {
    const address = server.address();
    const base = `http://${host}:${typeof address === 'object' && address ? address.port : port}`;
    console.log(`express-simplejwt demo on ${base}  (users: vitor / 123 active, sleeper / 123 inactive)

HTTPie:
  http post ${base}/api/token/ username=vitor password=123
  http ${base}/hello/ "Authorization: Bearer <access>"
  http post ${base}/api/token/refresh/ refresh=<refresh>
  http post ${base}/api/token/verify/ token=<access>

curl:
  curl -X POST ${base}/api/token/ -H 'Content-Type: application/json' -d '{"username": "vitor", "password": "123"}'
  curl ${base}/hello/ -H 'Authorization: Bearer <access>'
  curl -X POST ${base}/api/token/refresh/ -H 'Content-Type: application/json' -d '{"refresh": "<refresh>"}'

Public keys (RS/PS/ES): ${base}/.well-known/jwks.json
`);
  });
  server.on('error', (err) => {
    console.error(`demo-app: cannot listen on ${host}:${port}: ${err.message}`);
    process.exit(1);
  });
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main();
