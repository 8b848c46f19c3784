// Validates the OpenAPI document read on stdin with @seriousme/openapi-schema-validator (ESM only, so the jest
// tests run it in a child process) and prints {"valid": boolean, "version": string, "errors": [...]} on stdout.
import { Validator } from '@seriousme/openapi-schema-validator';

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => (input += chunk));
process.stdin.on('end', async () => {
  const validator = new Validator();
  const result = await validator.validate(JSON.parse(input));
  process.stdout.write(JSON.stringify({ valid: result.valid, version: validator.version, errors: result.errors ?? [] }));
});
