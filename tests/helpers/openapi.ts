import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import type { Response } from 'supertest';
import type { JsonSchema, OpenApiDocument, OpenApiHeader, OpenApiOperation, OpenApiRef, OpenApiResponse } from '../../lib/http/openapi';

/** What @seriousme/openapi-schema-validator says about a document. */
export interface ValidatorVerdict {
  valid: boolean;
  version: string;
  errors: unknown[];
}

/**
 * Validates a document against the official OpenAPI schema of its version with @seriousme/openapi-schema-validator.
 * That package is ESM only, which jest's CommonJS runtime cannot load, so it runs in a child Node process.
 */
export function validateDocument(doc: unknown): ValidatorVerdict {
  const run = spawnSync(process.execPath, [join(__dirname, 'validate-openapi.mjs')], { input: JSON.stringify(doc), encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`validate-openapi.mjs exited with ${run.status}: ${run.stderr}`);
  return JSON.parse(run.stdout) as ValidatorVerdict;
}

const COMPONENTS_ID = 'https://express-simplejwt.test/openapi/components';
/** RFC 3339 date-time (ajv ships no formats; strict mode refuses an unknown one). */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function isRef(value: unknown): value is OpenApiRef {
  return typeof value === 'object' && value !== null && typeof (value as OpenApiRef).$ref === 'string';
}

/**
 * Checks real HTTP answers against a document: the status must be documented for the operation, the body must
 * validate (ajv, JSON Schema 2020-12, strict mode) against the schema documented for that status, and every
 * required documented header must be present with a valid value.
 */
export function responseChecker(doc: OpenApiDocument) {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  ajv.addFormat('date-time', DATE_TIME);
  const rewrite = (schema: unknown): JsonSchema =>
    JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', `"${COMPONENTS_ID}#/$defs/`)) as JsonSchema;
  ajv.addSchema({ $id: COMPONENTS_ID, $defs: rewrite(doc.components.schemas) });
  const compiled = new Map<string, ValidateFunction>();

  /** Compiles a schema of the document (strict mode: an invalid or sloppy schema throws). */
  function compile(schema: JsonSchema): ValidateFunction {
    const key = JSON.stringify(schema);
    let validate = compiled.get(key);
    if (!validate) {
      validate = ajv.compile(rewrite(schema));
      compiled.set(key, validate);
    }
    return validate;
  }

  function resolveResponse(response: OpenApiResponse | OpenApiRef): OpenApiResponse {
    if (!isRef(response)) return response;
    const name = response.$ref.replace('#/components/responses/', '');
    const found = doc.components.responses[name];
    if (!found) throw new Error(`dangling ${response.$ref}`);
    return found;
  }

  function resolveHeader(header: OpenApiHeader | OpenApiRef): OpenApiHeader {
    if (!isRef(header)) return header;
    const found = doc.components.headers[header.$ref.replace('#/components/headers/', '')];
    if (!found) throw new Error(`dangling ${header.$ref}`);
    return found;
  }

  function operation(path: string, method: string): OpenApiOperation {
    const item = doc.paths[path] as Record<string, OpenApiOperation> | undefined;
    const op = item?.[method.toLowerCase()];
    if (!op) throw new Error(`${method} ${path} is not in the document (paths: ${Object.keys(doc.paths).join(', ')})`);
    return op;
  }

  /**
   * Problems with a real answer to `method path` (an empty list when it matches the document). A 405 to a method
   * the path does not have is checked against the 405 its operations document ("any other method").
   */
  function problems(path: string, method: string, res: Response): string[] {
    const item = (doc.paths[path] ?? {}) as Record<string, OpenApiOperation>;
    const op = res.status === 405 && !item[method.toLowerCase()] ? Object.values(item)[0] : operation(path, method);
    if (!op) return [`${path} is not in the document`];
    const documented = op.responses[String(res.status)];
    if (!documented) return [`status ${res.status} is not documented for ${method} ${path}`];
    const response = resolveResponse(documented);
    const out: string[] = [];
    const schema = response.content?.['application/json']?.schema;
    if (schema) {
      if (!/^application\/json\b/.test(String(res.headers['content-type']))) out.push(`content-type ${res.headers['content-type']}`);
      const validate = compile(schema);
      if (!validate(res.body)) out.push(`body ${JSON.stringify(res.body)}: ${ajv.errorsText(validate.errors)}`);
    } else if (res.text !== '' && res.text !== undefined) {
      out.push(`documented without a body, got ${JSON.stringify(res.text)}`);
    }
    for (const [name, ref] of Object.entries(response.headers ?? {})) {
      const header = resolveHeader(ref);
      const raw = res.headers[name.toLowerCase()] as string | string[] | undefined;
      if (raw === undefined) {
        if (header.required) out.push(`missing header ${name}`);
        continue;
      }
      // A header sent more than once (Set-Cookie): every line must match.
      for (const value of Array.isArray(raw) ? raw : [raw]) {
        const typed = header.schema.type === 'integer' ? Number(value) : value;
        const validate = compile(header.schema);
        if (!validate(typed)) out.push(`header ${name}: ${JSON.stringify(value)}: ${ajv.errorsText(validate.errors)}`);
      }
    }
    return out;
  }

  /** Every schema in the document, each compiled in strict mode (throws on the first invalid one). */
  function compileAll(): number {
    let count = 0;
    for (const name of Object.keys(doc.components.schemas)) {
      compile({ $ref: `#/components/schemas/${name}` });
      count++;
    }
    const schemas: JsonSchema[] = [];
    for (const response of Object.values(doc.components.responses)) {
      for (const media of Object.values(response.content ?? {})) schemas.push(media.schema);
    }
    for (const header of Object.values(doc.components.headers)) schemas.push(header.schema);
    for (const item of Object.values(doc.paths)) {
      for (const op of Object.values(item) as OpenApiOperation[]) {
        for (const media of Object.values(op.requestBody?.content ?? {})) schemas.push(media.schema);
        for (const parameter of op.parameters ?? []) schemas.push(parameter.schema);
        for (const response of Object.values(op.responses)) {
          if (isRef(response)) continue;
          for (const media of Object.values(response.content ?? {})) schemas.push(media.schema);
          for (const header of Object.values(response.headers ?? {})) if (!isRef(header)) schemas.push(header.schema);
        }
      }
    }
    for (const schema of schemas) compile(schema);
    return count + schemas.length;
  }

  /** Whether a value validates against a schema of the document. */
  function matches(schema: JsonSchema, value: unknown): boolean {
    return compile(schema)(value) as boolean;
  }

  return { problems, compileAll, matches, operation, resolveResponse };
}
