// Copied from the shared harness (../shared/bench): PostGraphile v5 over Plugboard's own schema.
// PostGraphile v5 configuration for the benchmark peer, tuned for a
// production-like, high-throughput run: no watch, no GraphiQL/Ruru, no explain,
// NODE_ENV=production (set by peer-postgraphile.sh), prepared statements
// (the default), pg pool size from PG_POOL_MAX (default 16).
// PGL_OUTPUT_AS_STRING=1 turns on grafserv's outputDataAsString; it was not a
// clear win here (within the +-20% run-to-run noise), so it stays off (default).
// node_modules lives in bench/.cache, so resolve packages from there.
import { createRequire } from "node:module";
const require = createRequire(new URL("./.cache/package.json", import.meta.url));
const { PostGraphileAmberPreset } = require("postgraphile/presets/amber");
const { makePgService } = require("postgraphile/adaptors/pg");

const connectionString =
  process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:55433/plugboard_bench";

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [
    makePgService({
      connectionString,
      schemas: ["public"],
      poolConfig: { max: Number(process.env.PG_POOL_MAX ?? 16) },
    }),
  ],
  grafserv: {
    host: process.env.PGL_HOST ?? "127.0.0.1",
    port: Number(process.env.PGL_PORT ?? 5678),
    graphqlPath: "/graphql",
    graphiql: false,
    graphiqlOnGraphQLGET: false,
    watch: false,
    websockets: false,
    outputDataAsString: process.env.PGL_OUTPUT_AS_STRING === "1",
  },
  grafast: {
    explain: false,
  },
  schema: {
    // keep the schema build deterministic and cheap at startup
    exportSchemaSDLPath: undefined,
  },
};
export default preset;
