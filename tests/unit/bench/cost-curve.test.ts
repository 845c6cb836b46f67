/**
 * The cost curve's arithmetic (bench/cost-curve.ts) on a case small enough to check by hand:
 * one route, a million requests, at the prices and assumptions the script states.
 */
import { describe, expect, it } from "vitest";
import {
  ASSUMPTIONS,
  apiGatewayCost,
  monthlyBill,
  PRICES,
  requestCosts,
} from "../../../bench/cost-curve.ts";

const route = {
  route: "GET /example",
  billedMs: 10,
  readUnits: 1,
  writeUnits: 0,
  // Over 512 KB: API Gateway meters it as two requests.
  responseBytes: 600 * 1024,
  logBytes: 1_000,
};

describe("the cost curve", () => {
  it("states the prices it uses and their date", () => {
    expect(PRICES.readOn).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    for (const service of [PRICES.lambda, PRICES.apiGateway, PRICES.dynamodb, PRICES.cloudwatch]) {
      expect(service.source).toMatch(/^https:\/\//);
    }
  });

  it("prices a million requests of one route as by hand", () => {
    const c = requestCosts(route, 1_000_000);
    // $0.20 for the requests; 1e6 × 0.5 GB × 0.010 s = 5,000 GB-s × $0.0000133334.
    expect(c.lambda).toBeCloseTo(0.2 + 5_000 * 0.0000133334, 9);
    // A million read units at $0.125 per million.
    expect(c.dynamodb).toBeCloseTo(0.125, 9);
    // 1e9 bytes of logs: 1 GB at $0.50.
    expect(c.logs).toBeCloseTo(0.5, 9);
    expect(c.meteredRequests).toBe(2_000_000);
  });

  it("tiers API Gateway at 300 million requests", () => {
    expect(apiGatewayCost(2_000_000)).toBeCloseTo(2, 9);
    expect(apiGatewayCost(400_000_000)).toBeCloseTo(300 + 100 * 0.9, 9);
  });

  it("adds storage, metrics and alarms to the month's bill", () => {
    const bill = monthlyBill([route], 1_000_000, { "GET /example": 1 });
    const storage = ((1_000_000 * ASSUMPTIONS.storedKbPerUser) / 1e6) * 0.25;
    const metrics = ASSUMPTIONS.customMetrics * 0.3 + ASSUMPTIONS.alarmMetrics * 0.1;
    expect(bill.requests).toBe(1_000_000);
    expect(bill.apiGateway).toBeCloseTo(2, 9);
    expect(bill.dynamodb).toBeCloseTo(0.125 + storage, 9);
    expect(bill.cloudwatchMetricsAndAlarms).toBeCloseTo(metrics, 9);
    expect(bill.total).toBeCloseTo(
      0.2 + 5_000 * 0.0000133334 + 2 + 0.125 + storage + 0.5 + metrics,
      9,
    );
    // 12 kB a user: 12 GB; 170 metrics and 110 alarm metrics: $62.
    expect(storage).toBeCloseTo(3, 9);
    expect(metrics).toBeCloseTo(62, 9);
  });
});
