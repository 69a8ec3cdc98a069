/**
 * The HTTP request a channel formatter describes and the delivery sends: plain data, so a
 * formatter stays pure and a test can compare it whole.
 */

/**
 * How a service says that a request with a 2xx status still failed: `status` trusts the
 * status alone; `errcode` expects a JSON body whose `errcode` is 0 (DingTalk, WeCom);
 * `code` expects one whose `code` is 0 (Feishu).
 */
export type SuccessCheck = "status" | "errcode" | "code";

/** One HTTP request to a channel's service. */
export interface AlertRequest {
  url: string;
  method: "POST" | "PUT";
  headers: Record<string, string>;
  body: string;
  successCheck: SuccessCheck;
}

/** Describes a JSON POST to `url` whose success the status alone decides, unless told. */
export function createJsonRequest(
  url: string,
  payload: unknown,
  successCheck: SuccessCheck = "status",
): AlertRequest {
  return {
    url,
    method: "POST",
    headers: { "content-type": "application/json; charset=utf-8" },
    body: JSON.stringify(payload),
    successCheck,
  };
}
