/**
 * Appends batches of logins to the record at `argv[2]` with their counters, without end,
 * printing `appended N` after each batch, until it is killed.
 */
import { openRecord } from "../../src/record/login-record.ts";
import { loginEvent } from "./record-fixtures.ts";

const BATCH = 50;
const record = openRecord(process.argv[2] ?? "");

for (let batch = 1; ; batch += 1) {
  const events = Array.from({ length: BATCH }, (_, index) =>
    loginEvent({ sessionId: String(batch * BATCH + index), timestamp: batch * 1000 + index }),
  );
  record.appendBatch(events, { received: BATCH + 1, accepted: BATCH, "rejected.not-json": 1 });
  process.stdout.write(`appended ${batch * BATCH}\n`);
}
