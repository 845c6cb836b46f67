/**
 * The functions' own JSON log lines (a request line, an audit line, an EMF metric): one object
 * per line with the service's name. Tests and `npm run bench` leave them out of what a person
 * reads unless LOG_REQUESTS=1 asks for them; deployed, CloudWatch keeps every one.
 */
export function isFunctionLogLine(text: string): boolean {
  return text.startsWith("{") && /"service":"[^"]*"/.test(text);
}

/** Whether the functions' log lines are wanted on the terminal (LOG_REQUESTS=1). */
export function requestLogsWanted(env: Record<string, string | undefined> = process.env): boolean {
  return env.LOG_REQUESTS === "1" || env.LOG_REQUESTS === "true";
}
