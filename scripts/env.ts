/**
 * `npm run env`: the export lines of the running `npm start` (found through its record, as
 * `npm run token` finds it), for a shell that runs `npm run token`, `npm run login` or
 * `npx serverless invoke local`: `eval "$(npm run -s env)"`.
 */
import { commandLine } from "./local/cli.ts";
import { exportLines, localSettings, runningStack, STACK_VARIABLES } from "./local/settings.ts";

commandLine(
  `usage: npm run env

Prints the export lines of the running npm start (its ports, DATA_DIR, issuer, DynamoDB Local
endpoint and cursor secret file) for another shell: eval "$(npm run -s env)". Then npm run
token, npm run login and npx serverless invoke local reach that stack. A stack started with
LOCAL_STACK_FILE=off records nothing: set its PORT, ISSUER_PORT, ... variables instead.`,
  {},
);

if (!runningStack() && !STACK_VARIABLES.some((name) => process.env[name])) {
  console.error(
    "No npm start is running here (none recorded in .local-stack.json): start one first, or set the variables of the one you mean (PORT, DYNAMODB_PORT, ISSUER_PORT, DATA_DIR, ...).",
  );
  process.exit(1);
}
console.log(exportLines(localSettings()).join("\n"));
