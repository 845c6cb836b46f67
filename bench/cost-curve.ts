/**
 * `npm run cost`: the monthly bill per AWS service at 10 k, 1 M and 10 M monthly users, from the
 * bench's measured figures per route (bench/results.json: warm median duration, DynamoDB calls,
 * read and write units; the featured list's hot read) under a stated traffic mix, at AWS's
 * public us-east-1 prices (PRICES: each with its source and the date it was read). Prints the
 * traffic mix, the cost per 1,000 requests of each route and the table; `--json` prints them as
 * JSON. No free tier is counted (it ends, and is small beside 1 M users).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { commandLine } from "../scripts/local/cli.ts";
import { ROOT } from "../scripts/local/serverless-config.ts";

/** us-east-1 list prices, read 2026-12-02 from the stored public pages named in `source`. */
export const PRICES = {
  lambda: {
    // arm64 (serverless.yml: architecture arm64, memorySize 512).
    perMillionRequests: 0.2,
    perGbSecond: 0.0000133334,
    source:
      "https://cloudchipr.com/blog/aws-lambda-pricing (us-east-1 arm64, first 7.5 billion GB-s; aws.amazon.com/lambda/pricing gave no figures in the stored copy)",
  },
  apiGateway: {
    // HTTP API: first 300 million requests a month, then the next tier. Metered in 512 KB
    // increments: a 600 KB response counts as two requests.
    perMillionFirst300M: 1.0,
    perMillionAfter300M: 0.9,
    meteredBytes: 512 * 1024,
    source:
      "https://docs.aws.amazon.com/pt_br/whitepapers/latest/best-practices-api-gateway-private-apis-integration/cost-optimization.html (Table 4, HTTP, us-east-1)",
  },
  dynamodb: {
    // On-demand, Standard table class, after the November 2024 reduction.
    perMillionReadUnits: 0.125,
    perMillionWriteUnits: 0.625,
    // Not found in the stored pages: the figure below is the commonly quoted us-east-1 rate
    // (first 25 GB free), uncited here.
    perGbMonthStorage: 0.25,
    source:
      "https://airbyte.com/data-engineering-resources/dynamodb-pricing (us-east-1 on-demand, after November 2024); storage uncited",
  },
  cloudwatch: {
    perGbLogsIngested: 0.5,
    perCustomMetricMonth: 0.3,
    perStandardAlarmMetricMonth: 0.1,
    source:
      "https://www.factualminds.com/blog/amazon-cloudwatch-pricing-metrics-logs-alarms-dashboards/ (logs $0.50/GB), https://signoz.io/guides/cloudwatch-pricing (custom metrics $0.30, first 10,000), https://c3x.dev/resources/aws/aws_cloudwatch_metric_alarm (standard alarm $0.10)",
  },
  ssm: {
    // Standard parameters at the default (standard) throughput: no charge per API call.
    perGetParameter: 0,
    source:
      "https://docs.aws.eu/systems-manager/latest/userguide/parameter-store-throughput.html (default throughput without additional cost; higher throughput is charged, price not in the stored pages)",
  },
  readOn: "2026-12-02",
} as const;

/** What one request of a route costs the services, as measured (per request). */
export interface RouteFigures {
  route: string;
  /** Lambda duration billed, ms (1 ms granularity). */
  billedMs: number;
  readUnits: number;
  writeUnits: number;
  /** Response body bytes (API Gateway meters 512 KB increments). */
  responseBytes: number;
  /** CloudWatch Logs bytes per request: the access log line, the function's line, Lambda's. */
  logBytes: number;
}

/** Assumptions the bench cannot measure here, stated and used once each. */
export const ASSUMPTIONS = {
  memoryGb: 0.5,
  /**
   * On AWS each DynamoDB round trip takes a few ms more than DynamoDB Local on loopback (about
   * 5 ms a write, less a read, docs/security.md: Per-caller limits): added to the measured median per call.
   */
  awsMsPerDynamoCall: 4,
  /** The per-caller limit's own writes (bench/cost.ts, docs/security.md): per write 1 WRU, per read 0.23. */
  limiterWriteUnitsPerWrite: 1,
  limiterWriteUnitsPerRead: 0.23,
  /** API Gateway access log line (docs/operations.md), the function's request line, START/END/REPORT. */
  accessLogBytes: 400,
  functionLogBytes: 350,
  lambdaPlatformLogBytes: 330,
  /** Responses other than the featured page, all far under 512 KB. */
  smallResponseBytes: 2_000,
  /** Stored data per monthly user: profile, ~20 songs, ~3 playlists, counters, records. */
  storedKbPerUser: 12,
  /** Custom metrics: detailed route metrics (6 × 25 routes, prod) + the EMF metrics; alarm metrics. */
  customMetrics: 170,
  alarmMetrics: 110,
  /** Editorial changes of the featured list a month, and warm containers re-reading a page after each. */
  featuredChangesPerMonth: 300,
  warmContainersPerChange: 50,
  /** Cold starts per request: each reads the cursor secret once (songs, playlists, users). */
  coldStartsPerRequest: 0.01,
} as const;

/** Requests per monthly user per month, by route: the traffic mix. */
export const TRAFFIC_MIX: Record<string, number> = {
  "GET /playlists/featured": 30,
  "GET /playlists": 20,
  "GET /playlists/{playlistId}": 40,
  "POST /playlists/{playlistId}/plays": 60,
  "GET /playlists/getPlays": 5,
  "PATCH /playlists/{playlistId}": 2,
  "GET /songs": 10,
  "GET /songs/{songId}": 5,
  "POST /songs": 5,
  "GET /users/{userId}": 5,
  "PATCH /users/{userId}": 0.2,
  "GET /displayName": 5,
  "PUT /displayName": 0.2,
  "GET /genres/getFav": 5,
  "PUT /genres/fav": 0.5,
  // Sync (devices that go offline): a pull each time the app comes to the foreground, a push
  // when the device made changes (CHANGES_PER_PUSH each).
  "GET /sync": 30,
  "POST /sync": 5,
  // 4 logins, and the renewals: the Action runs at each refresh-token exchange too, about one
  // a day the app is opened with 24-hour access tokens.
  "POST /hooks/post-login": 20,
};

export const USER_COUNTS = [10_000, 1_000_000, 10_000_000];

interface WarmRow {
  route: string;
  medianMs: number;
  dynamoCalls: number;
  operations: string;
  readCU: number;
  writeCU: number;
}

interface FeaturedRow {
  run: string;
  stampReads: number;
  stampReadUnits: number;
  pageReadUnits: number;
  pageBytes: number;
}

/** Changes in one push of the traffic mix. */
const CHANGES_PER_PUSH = 3;

/** The per-request figures of each route from the bench's results. */
export function routeFigures(results: {
  warm: WarmRow[];
  featuredHotRead?: { rows: FeaturedRow[] };
  sync?: { what: string; readUnits: number; writeUnits: number }[];
}): RouteFigures[] {
  // The warm push is one sent again (it writes nothing): a push's writes come from bench/sync.ts.
  const push100 = results.sync?.find((row) => row.what.startsWith("push of 100"));
  const a = ASSUMPTIONS;
  const after = results.featuredHotRead?.rows.find((row) => row.run.startsWith("after"));
  return results.warm.map((w) => {
    const isWrite = !w.route.startsWith("GET ");
    // DynamoDB bills a transaction's writes twice (docs/cost-and-performance.md); DynamoDB Local's
    // report does not always: doubled here, an upper bound.
    const writeUnits = w.operations.includes("TransactWriteItems") ? w.writeCU * 2 : w.writeCU;
    let readUnits = w.readCU;
    let written = writeUnits;
    if (w.route === "POST /sync" && push100) {
      readUnits = (push100.readUnits / 100) * CHANGES_PER_PUSH;
      written = (push100.writeUnits / 100) * CHANGES_PER_PUSH;
    }
    let responseBytes: number = a.smallResponseBytes;
    if (w.route === "GET /playlists/featured") {
      // One stamp read per home load (a consistent GetItem of an item under 4 kB: 1 unit, until
      // the bench's featured part has recorded it); the pages re-read after each editorial
      // change are counted once a month in monthlyBill.
      readUnits = after ? after.stampReadUnits / after.stampReads : 1;
      if (after) responseBytes = after.pageBytes;
    }
    return {
      route: w.route,
      billedMs: Math.ceil(w.medianMs + w.dynamoCalls * a.awsMsPerDynamoCall),
      readUnits,
      writeUnits: written + (isWrite ? a.limiterWriteUnitsPerWrite : a.limiterWriteUnitsPerRead),
      responseBytes,
      logBytes: a.accessLogBytes + a.functionLogBytes + a.lambdaPlatformLogBytes,
    };
  });
}

const perMillion = (count: number, price: number) => (count / 1e6) * price;

/** API Gateway HTTP API, tiered: the first 300 million metered requests, then the rest. */
export function apiGatewayCost(meteredRequests: number): number {
  const p = PRICES.apiGateway;
  const first = Math.min(meteredRequests, 300e6);
  return (
    perMillion(first, p.perMillionFirst300M) +
    perMillion(meteredRequests - first, p.perMillionAfter300M)
  );
}

/** Lambda, DynamoDB throughput and logs of `count` requests of a route (API Gateway apart: tiered). */
export function requestCosts(figures: RouteFigures, count: number) {
  const gbSeconds = count * ASSUMPTIONS.memoryGb * (figures.billedMs / 1000);
  return {
    lambda:
      perMillion(count, PRICES.lambda.perMillionRequests) + gbSeconds * PRICES.lambda.perGbSecond,
    dynamodb:
      perMillion(count * figures.readUnits, PRICES.dynamodb.perMillionReadUnits) +
      perMillion(count * figures.writeUnits, PRICES.dynamodb.perMillionWriteUnits),
    logs: ((count * figures.logBytes) / 1e9) * PRICES.cloudwatch.perGbLogsIngested,
    meteredRequests:
      count * Math.max(1, Math.ceil(figures.responseBytes / PRICES.apiGateway.meteredBytes)),
  };
}

/** What 1,000 requests of each route cost, API Gateway at its first tier. */
export function costPer1000(figures: RouteFigures[]) {
  return figures.map((f) => {
    const c = requestCosts(f, 1000);
    const apiGateway = perMillion(c.meteredRequests, PRICES.apiGateway.perMillionFirst300M);
    return {
      route: f.route,
      lambda: c.lambda,
      apiGateway,
      dynamodb: c.dynamodb,
      logs: c.logs,
      total: c.lambda + apiGateway + c.dynamodb + c.logs,
    };
  });
}

/** The monthly bill per service at `users` monthly users under `mix`. */
export function monthlyBill(
  figures: RouteFigures[],
  users: number,
  mix: Record<string, number> = TRAFFIC_MIX,
  featuredPageReadUnits = 0,
) {
  const a = ASSUMPTIONS;
  let lambda = 0;
  let dynamodb = 0;
  let logs = 0;
  let metered = 0;
  let requests = 0;
  for (const f of figures) {
    const count = users * (mix[f.route] ?? 0);
    if (!count) continue;
    const c = requestCosts(f, count);
    lambda += c.lambda;
    dynamodb += c.dynamodb;
    logs += c.logs;
    metered += c.meteredRequests;
    requests += count;
  }
  // The featured pages re-read after each editorial change, whatever the number of users.
  dynamodb += perMillion(
    a.featuredChangesPerMonth * a.warmContainersPerChange * featuredPageReadUnits,
    PRICES.dynamodb.perMillionReadUnits,
  );
  const storageGb = (users * a.storedKbPerUser) / 1e6;
  dynamodb += storageGb * PRICES.dynamodb.perGbMonthStorage;
  const apiGateway = apiGatewayCost(metered);
  const metricsAndAlarms =
    a.customMetrics * PRICES.cloudwatch.perCustomMetricMonth +
    a.alarmMetrics * PRICES.cloudwatch.perStandardAlarmMetricMonth;
  const ssm = requests * a.coldStartsPerRequest * PRICES.ssm.perGetParameter;
  const bill = {
    users,
    requests,
    lambda,
    apiGateway,
    dynamodb,
    cloudwatchLogs: logs,
    cloudwatchMetricsAndAlarms: metricsAndAlarms,
    ssm,
  };
  return { ...bill, total: lambda + apiGateway + dynamodb + logs + metricsAndAlarms + ssm };
}

function main() {
  const { values } = commandLine(
    `usage: npm run cost [-- --json]

The monthly bill per AWS service at 10 k, 1 M and 10 M monthly users, from the bench's figures
per route (bench/results.json, written by npm run bench -- --record) under a stated traffic mix,
at AWS's public us-east-1 prices (each with its source in bench/cost-curve.ts). Prints the mix,
the figures, the cost per 1,000 requests of each route and the bill; --json prints them as JSON.
Reads files only: no stack, no AWS account.`,
    { options: { json: { type: "boolean", default: false } } },
  );
  const results = JSON.parse(readFileSync(join(ROOT, "bench", "results.json"), "utf8"));
  const figures = routeFigures(results);
  const after = (results.featuredHotRead?.rows as FeaturedRow[] | undefined)?.find((r) =>
    r.run.startsWith("after"),
  );
  const bills = USER_COUNTS.map((users) =>
    monthlyBill(figures, users, TRAFFIC_MIX, after?.pageReadUnits ?? 0),
  );
  const per1000 = costPer1000(figures);
  if (values.json) {
    console.log(
      JSON.stringify(
        { prices: PRICES, assumptions: ASSUMPTIONS, mix: TRAFFIC_MIX, figures, per1000, bills },
        null,
        2,
      ),
    );
    return;
  }
  const dollars = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 1 ? x.toFixed(2) : x.toFixed(4));
  console.log(
    `Prices: us-east-1, read ${PRICES.readOn} (sources in bench/cost-curve.ts); bench figures of ${results.date}`,
  );
  console.log("Traffic mix: requests per monthly user per month");
  console.table(TRAFFIC_MIX);
  console.log("Per request, as measured (+ stated assumptions)");
  console.table(figures);
  console.log("Cost per 1,000 requests, $");
  console.table(
    per1000.map((r) => ({
      route: r.route,
      lambda: dollars(r.lambda),
      apiGateway: dollars(r.apiGateway),
      dynamodb: dollars(r.dynamodb),
      logs: dollars(r.logs),
      total: dollars(r.total),
    })),
  );
  console.log("Monthly bill, $");
  console.table(
    bills.map((b) => ({
      users: b.users.toLocaleString("en-US"),
      requests: b.requests.toLocaleString("en-US"),
      lambda: dollars(b.lambda),
      apiGateway: dollars(b.apiGateway),
      dynamodb: dollars(b.dynamodb),
      logs: dollars(b.cloudwatchLogs),
      metricsAlarms: dollars(b.cloudwatchMetricsAndAlarms),
      ssm: dollars(b.ssm),
      total: dollars(b.total),
    })),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) main();
