import request from 'supertest';
import { createDemoApp } from '../../../demo-app/app';
import { UserTable } from '../../../demo-app/users';
import { memoryLogger, SECRET } from '../../helpers/app';
import { validateDocument } from '../../helpers/openapi';
import { openApiDocument } from '../../../lib/openapi';

describe('the demo serves its OpenAPI document', () => {
  const { app, auth } = createDemoApp(new UserTable(), { secret: SECRET, loginThrottle: false, warnings: false, logger: memoryLogger(), bcryptRounds: 4 });
  afterAll(() => auth.close());

  it('GET /api/schema/ answers the kit\'s document for the demo\'s configuration, valid OpenAPI 3.1', async () => {
    const res = await request(app).get('/api/schema/');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual(openApiDocument(auth, { adminPath: '/api/admin/token-lifetimes' }));
    expect(res.body.openapi).toBe('3.1.0');
    expect(Object.keys(res.body.paths)).toContain('/api/token/refresh/');
    expect(Object.keys(res.body.paths)).toContain('/api/admin/token-lifetimes/');
    expect(validateDocument(res.body)).toMatchObject({ valid: true, version: '3.1', errors: [] });
  });
});
