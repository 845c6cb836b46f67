import { type ParseArgsConfig, parseArgs } from "node:util";

/**
 * The command line of an npm script, parsed with node:util's parseArgs. `--help` or `-h` prints
 * `usage` and exits 0 before the script does anything; an unknown option or a malformed one
 * prints what is wrong and the usage, and exits 2: never a stack trace.
 */
export function commandLine<T extends ParseArgsConfig>(
  usage: string,
  config: T,
): ReturnType<typeof parseArgs<T>> {
  const args = process.argv.slice(2);
  const end = args.indexOf("--");
  const options = end === -1 ? args : args.slice(0, end);
  if (options.includes("--help") || options.includes("-h")) {
    console.log(usage.trimEnd());
    process.exit(0);
  }
  try {
    return parseArgs(config);
  } catch (error) {
    const { code, message } = error as { code?: string; message?: string };
    if (!code?.startsWith("ERR_PARSE_ARGS")) throw error;
    console.error(`${message}\n\n${usage.trimEnd()}`);
    process.exit(2);
  }
}
