// Validates an OpenAPI document with @apidevtools/swagger-parser: the schema of the
// document itself plus every $ref. Usage: node validate-openapi.mjs FILE
import SwaggerParser from "@apidevtools/swagger-parser";

const file = process.argv[2];
if (!file) {
  console.error("usage: node validate-openapi.mjs FILE");
  process.exit(2);
}
try {
  const api = await SwaggerParser.validate(file);
  console.log(`swagger-parser: ${file} is valid (${api.info.title} ${api.info.version})`);
} catch (err) {
  console.error(`swagger-parser: ${file} is invalid:\n${err.message}`);
  process.exit(1);
}
