/**
 * A local HTTP server on 127.0.0.1 that stands in for a chat service: it records each
 * request and answers with whatever the test's handler returns.
 */

/** One request as the stand-in received it. */
export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | null;
  headers: Headers;
  body: string;
}

/** A running stand-in server. */
export interface ServiceStandIn {
  /** The server's base URL, without a trailing slash. */
  url: string;
  requests: RecordedRequest[];
  stop(): Promise<void>;
}

/** Answers the `index`th request (from 0) the stand-in received. */
export type StandInHandler = (
  request: RecordedRequest,
  index: number,
) => Response | Promise<Response>;

/** Starts a stand-in on 127.0.0.1 on a free port. */
export function startStandIn(handler: StandInHandler): ServiceStandIn {
  const requests: RecordedRequest[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      const recorded: RecordedRequest = {
        method: request.method,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        contentType: request.headers.get("content-type"),
        headers: request.headers,
        body: await request.text(),
      };
      requests.push(recorded);
      return handler(recorded, requests.length - 1);
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    requests,
    stop: () => server.stop(true),
  };
}

/** Answers with `payload` as JSON and the given status and headers. */
export function jsonResponse(
  payload: unknown,
  status = 200,
  headers: Record<string, string> = {},
): Response {
  return Response.json(payload, { status, headers });
}

/** Never answers: the connection stays open until the stand-in stops. */
export function neverAnswer(): Promise<Response> {
  return new Promise<Response>(() => {});
}

/** Reads a string field of a JSON object body, or gives "" when there is none. */
export function readJsonString(body: string, key: string): string {
  const value: unknown = JSON.parse(body);
  if (typeof value !== "object" || value === null) return "";
  const field: unknown = Object.entries(value).find(([name]) => name === key)?.[1];
  return typeof field === "string" ? field : "";
}
