/**
 * Business metrics in CloudWatch Embedded Metric Format: one structured log line per metric
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
 * CloudWatch Logs turns it into a metric of namespace MusicUserData with the dimension
 * `service`: no API call, no round trip, nothing to wait for. Written whatever LOG_LEVEL says.
 */
import { logSettings } from "./config.ts";

const METRICS_NAMESPACE = "MusicUserData";

/**
 * The metrics the code writes itself, in the order of the dashboard's business widget
 * (scripts/serverless/routes.json carries them to scripts/serverless/operations.cjs); a route's
 * own is declared with it (`counts`).
 */
export const METRIC_NAMES = [
  "Logins",
  "RolesGranted",
  "RolesRemoved",
  "PlaysCounted",
  "PlaysRefused",
  "IdempotentReplays",
  "QuotaRefusals",
  "RateLimited",
  "HookFailures",
  "AccountsDeleted",
  "ManagementApiFailures",
  "Unavailable",
] as const;

export type MetricName = (typeof METRIC_NAMES)[number];

export function metric(name: MetricName, value = 1, cause?: string): void {
  write(name, value, cause);
}

/** One of what a route declares it counts (lib/http/route.ts: `counts`), once. */
export function count(name: string): void {
  write(name, 1);
}

function write(name: string, value: number, cause?: string): void {
  const dimensions = cause ? ["service", "cause"] : ["service"];
  console.log(
    JSON.stringify({
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [
          {
            Namespace: METRICS_NAMESPACE,
            Dimensions: [dimensions],
            Metrics: [{ Name: name, Unit: "Count" }],
          },
        ],
      },
      service: logSettings.service,
      ...(cause ? { cause } : {}),
      [name]: value,
    }),
  );
}
