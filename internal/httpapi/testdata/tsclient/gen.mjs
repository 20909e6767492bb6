// Generates api.d.ts from the OpenAPI description given as the first
// argument, the way openapi-typescript's documentation says to: files
// (format: binary) become Blob, the one transform a browser client needs.
import fs from "node:fs";
import openapiTS, { astToString } from "openapi-typescript";
import ts from "typescript";

const [spec, out] = process.argv.slice(2);
const BLOB = ts.factory.createTypeReferenceNode(ts.factory.createIdentifier("Blob"));
const ast = await openapiTS(fs.readFileSync(spec, "utf8"), {
  transform(schema) {
    if (schema.format === "binary") return BLOB;
  },
});
fs.writeFileSync(out, astToString(ast));
