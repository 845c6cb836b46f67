"use strict";

/**
 * Stops `serverless package` and `serverless deploy` early, with a message that says what to
 * set, when a stage lacks the values only its owner can know (the Auth0 issuer and audience),
 * still carries a placeholder copied from the docs (`YOUR_TENANT`, `<api-id>`), or carries a
 * secret in plain text (CURSOR_SECRET, AUTH0_MGMT_CLIENT_SECRET: deployed, they are read from SSM). `npm start`
 * (serverless-offline) never packages, so it is not held.
 */

const { placeholdersIn } = require("./placeholders.cjs");

class CheckDeployParams {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { "before:package:initialize": () => this.check() };
  }

  check() {
    const { provider } = this.serverless.service;
    const env = provider.environment ?? {};
    const stage = provider.stage;
    const problems = [];
    const placeholder = (value) => /\.invalid(\/|$)/.test(value ?? "");
    if (!/^https:\/\/[^/]+\/$/.test(env.AUTH_ISSUER ?? "") || placeholder(env.AUTH_ISSUER)) {
      problems.push(
        `AUTH_ISSUER must be your Auth0 tenant's issuer, https with a trailing slash (e.g. https://YOUR_TENANT.us.auth0.com/); got "${env.AUTH_ISSUER ?? ""}"`,
      );
    }
    if (
      !env.AUTH_AUDIENCE ||
      placeholder(env.AUTH_AUDIENCE) ||
      /\.local$/.test(env.AUTH_AUDIENCE)
    ) {
      problems.push(
        `AUTH_AUDIENCE must be the Auth0 API identifier (e.g. https://api.music.example.com); got "${env.AUTH_AUDIENCE ?? ""}"`,
      );
    }
    if (env.CURSOR_SECRET) {
      problems.push(
        "CURSOR_SECRET is for local runs only: a deployed stage reads the secret from the SSM SecureString named by CURSOR_SECRET_PARAMETER, so that it is in neither the template nor the environment; unset it",
      );
    }
    if (!/^\/[A-Za-z0-9_.\-/]+$/.test(env.CURSOR_SECRET_PARAMETER ?? "")) {
      problems.push(
        `CURSOR_SECRET_PARAMETER must be an SSM parameter name starting with / (default /SERVICE/STAGE/cursor-secret); got "${env.CURSOR_SECRET_PARAMETER ?? ""}"`,
      );
    }
    const users = this.serverless.service.functions?.users?.environment ?? {};
    if (users.AUTH0_MGMT_CLIENT_SECRET) {
      problems.push(
        "AUTH0_MGMT_CLIENT_SECRET is for local runs only: a deployed stage reads it from the SSM SecureString named by AUTH0_MGMT_CLIENT_SECRET_PARAMETER; unset it",
      );
    }
    if (env.DYNAMODB_ENDPOINT)
      problems.push("DYNAMODB_ENDPOINT is for local runs only; unset it to deploy");
    const custom = this.serverless.service.custom ?? {};
    const values = {
      ...env,
      CORS_ALLOWED_ORIGINS: custom.cors?.allowedOrigins,
      ALARM_EMAIL: custom.operations?.alarmEmail,
    };
    for (const name of placeholdersIn(values)) {
      problems.push(
        `${name} is still a placeholder from the docs ("${values[name]}"): put in your own value`,
      );
    }
    if (problems.length > 0) {
      throw new this.serverless.classes.Error(
        `Stage "${stage}" cannot be packaged or deployed yet:\n  - ${problems.join("\n  - ")}\n` +
          `Set them in the environment, or as params.${stage} in serverless.yml (docs/deploy.md).`,
      );
    }
  }
}

module.exports = CheckDeployParams;
