/**
 * `express-simplejwt/openapi`: the OpenAPI 3.1 document of a kit's endpoints, in an entry point of its own so
 * that hosts who do not serve one never load the generator.
 */
import type { SimpleJwt } from './simpleJwt';
import type { Config } from './config/resolve';
import { KIT_CONFIG } from './http/routes';
import { createOpenApiDocument, type OpenApiDocument, type OpenApiOptions } from './http/openapi';

/** The document's types: the document itself, its options, and the OpenAPI objects it is made of. */
export type {
  OpenApiDocument,
  OpenApiOptions,
  OpenApiOperation,
  OpenApiPathItem,
  OpenApiResponse,
  OpenApiHeader,
  OpenApiParameter,
  OpenApiRef,
  OpenApiSecurityScheme,
  JsonSchema,
} from './http/openapi';

/**
 * The OpenAPI 3.1 document of the token endpoints of `auth` (what `simpleJwt()` returned), for its
 * configuration: the same route table `auth.router` is built from. Each call returns a new object.
 *
 * @example
 * import { openApiDocument } from 'express-simplejwt/openapi';
 * const schema = openApiDocument(auth, { adminPath: '/api/admin/token-lifetimes' }); // once, at start-up
 * app.get('/api/schema/', (req, res) => res.json(schema));
 */
export function openApiDocument(auth: SimpleJwt, options?: OpenApiOptions): OpenApiDocument {
  const config = (auth as unknown as { [KIT_CONFIG]?: Config } | null | undefined)?.[KIT_CONFIG];
  if (config === undefined) throw new TypeError('openApiDocument() takes the kit simpleJwt() returned: openApiDocument(auth, options)');
  return createOpenApiDocument(config, options);
}
