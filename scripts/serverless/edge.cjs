"use strict";

/**
 * An edge in front of the API, as an option of the stage (`edgeRequestsPerMinute`, empty: none):
 * a CloudFront distribution whose origin is the HTTP API, with an AWS WAF web ACL of two
 * rate-based rules, since HTTP APIs take no WAF of their own:
 *
 * - per bearer token (the Authorization header as the key): a caller past the limit is refused
 *   at the edge with the API's own 429 body, before API Gateway, Lambda or DynamoDB see it;
 * - per client IP address, five times as high, for requests without a token (a token per
 *   request would otherwise escape the first rule).
 *
 * What it stops and what it leaves to the functions' per-caller budgets is in
 * docs/security.md. The web ACL is global (CLOUDFRONT scope): AWS creates those in us-east-1
 * only, so a stage with the edge deploys there. The API's own endpoint stays reachable; the
 * functions' budgets hold there too.
 */
// AWS's managed CloudFront policies: no caching (every request is a user's), and every viewer
// header but Host forwarded (API Gateway routes by its own host name).
const CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
const ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac";
const IP_FACTOR = 5;

const REFUSAL = {
  statusCode: 429,
  error: "Too Many Requests",
  message: "Too many requests from this caller at the edge; retry in a minute",
  errorCode: "rate_limited",
};

class Edge {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      "after:aws:package:finalize:mergeCustomProviderResources": () => this.addResources(),
    };
  }

  addResources() {
    const service = this.serverless.service;
    const perMinute = String(service.custom?.operations?.edgeRequestsPerMinute ?? "");
    if (perMinute === "") return;
    if (!/^\d+$/.test(perMinute) || Number(perMinute) < 10) {
      throw new this.serverless.classes.Error(
        `edgeRequestsPerMinute must be a whole number of at least 10 (WAF's least), not "${perMinute}"`,
      );
    }
    const template = service.provider.compiledCloudFormationTemplate;
    const prefix = `${service.service}-${service.provider.stage}`;
    const visibility = (name) => ({
      SampledRequestsEnabled: true,
      CloudWatchMetricsEnabled: true,
      MetricName: `${prefix}-${name}`,
    });
    const rateRule = (name, priority, limit, keys) => ({
      Name: name,
      Priority: priority,
      Action: {
        Block: {
          CustomResponse: {
            ResponseCode: 429,
            CustomResponseBodyKey: "rate_limited",
            ResponseHeaders: [{ Name: "Retry-After", Value: "60" }],
          },
        },
      },
      Statement: { RateBasedStatement: { Limit: limit, EvaluationWindowSec: 60, ...keys } },
      VisibilityConfig: visibility(name),
    });
    template.Resources.EdgeWebAcl = {
      Type: "AWS::WAFv2::WebACL",
      Properties: {
        Name: `${prefix}-edge`,
        Scope: "CLOUDFRONT",
        DefaultAction: { Allow: {} },
        CustomResponseBodies: {
          rate_limited: { ContentType: "APPLICATION_JSON", Content: JSON.stringify(REFUSAL) },
        },
        Rules: [
          rateRule("per-bearer-token", 0, Number(perMinute), {
            AggregateKeyType: "CUSTOM_KEYS",
            CustomKeys: [
              {
                Header: {
                  Name: "authorization",
                  TextTransformations: [{ Priority: 0, Type: "NONE" }],
                },
              },
            ],
          }),
          rateRule("per-ip", 1, IP_FACTOR * Number(perMinute), { AggregateKeyType: "IP" }),
        ],
        VisibilityConfig: visibility("edge"),
      },
    };
    template.Resources.EdgeDistribution = {
      Type: "AWS::CloudFront::Distribution",
      Properties: {
        DistributionConfig: {
          Enabled: true,
          Comment: `${prefix}: the API behind AWS WAF`,
          HttpVersion: "http2and3",
          WebACLId: { "Fn::GetAtt": ["EdgeWebAcl", "Arn"] },
          Origins: [
            {
              Id: "api",
              // "https://abc.execute-api.region.amazonaws.com" without its scheme.
              DomainName: {
                "Fn::Select": [
                  1,
                  { "Fn::Split": ["://", { "Fn::GetAtt": ["HttpApi", "ApiEndpoint"] }] },
                ],
              },
              CustomOriginConfig: {
                OriginProtocolPolicy: "https-only",
                OriginSSLProtocols: ["TLSv1.2"],
              },
            },
          ],
          DefaultCacheBehavior: {
            TargetOriginId: "api",
            ViewerProtocolPolicy: "https-only",
            AllowedMethods: ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"],
            CachedMethods: ["GET", "HEAD"],
            CachePolicyId: CACHING_DISABLED,
            OriginRequestPolicyId: ALL_VIEWER_EXCEPT_HOST_HEADER,
            Compress: true,
          },
        },
      },
    };
    template.Outputs = {
      ...template.Outputs,
      EdgeUrl: {
        Description: "The API behind CloudFront and AWS WAF: give this URL to the apps",
        Value: {
          "Fn::Join": ["", ["https://", { "Fn::GetAtt": ["EdgeDistribution", "DomainName"] }]],
        },
      },
    };
  }
}

module.exports = Edge;
