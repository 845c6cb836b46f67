import { describe, expect, it } from "vitest";
import { checkAgainstContract } from "../helpers/contract.ts";

/** The contract check the end-to-end suites run on every response can fail, and says why. */
const url = (path: string) => `http://127.0.0.1:3000${path}`;
const headers = (extra: Record<string, string> = {}) =>
  new Headers({ "x-correlation-id": "c-1", ...extra });
const song = {
  songId: "01JD0000000000000000000SNG",
  songName: "Hit",
  genre: "pop",
  createdAt: "2026-11-26T10:00:00.000Z",
};

describe("checkAgainstContract", () => {
  it("accepts a documented response", () => {
    expect(() =>
      checkAgainstContract(
        "GET",
        url(`/songs/${song.songId}`),
        200,
        headers(),
        JSON.stringify(song),
      ),
    ).not.toThrow();
  });
  it("refuses an undocumented status", () => {
    expect(() => checkAgainstContract("GET", url("/songs"), 418, headers(), "")).toThrow(
      "status not documented",
    );
  });
  it("refuses an undocumented field", () => {
    const body = JSON.stringify({ ...song, secret: "x" });
    expect(() =>
      checkAgainstContract("GET", url(`/songs/${song.songId}`), 200, headers(), body),
    ).toThrow("body breaks the document");
  });
  it("refuses a response without a header the document requires", () => {
    expect(() =>
      checkAgainstContract(
        "GET",
        url(`/songs/${song.songId}`),
        200,
        new Headers(),
        JSON.stringify(song),
      ),
    ).toThrow("X-Correlation-Id is missing");
    const unavailable = JSON.stringify({
      statusCode: 503,
      error: "Service Unavailable",
      message: "m",
      errorCode: "temporarily_unavailable",
    });
    expect(() => checkAgainstContract("GET", url("/songs"), 503, headers(), unavailable)).toThrow(
      "Retry-After is missing",
    );
  });
  it("matches literal paths before parameters", () => {
    const plays = JSON.stringify({ plays: 3 });
    expect(() =>
      checkAgainstContract("GET", url("/playlists/getPlays"), 200, headers(), plays),
    ).not.toThrow();
  });
});
