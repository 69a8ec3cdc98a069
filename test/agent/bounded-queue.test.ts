import { describe, expect, test } from "bun:test";
import { BoundedQueue } from "../../src/agent/bounded-queue.ts";

describe("BoundedQueue", () => {
  test("refuses items beyond its capacity and keeps order", async () => {
    const queue = new BoundedQueue<number>(2);
    expect([queue.push(1), queue.push(2), queue.push(3)]).toEqual([true, true, false]);
    expect([await queue.take(), await queue.take()]).toEqual([1, 2]);
  });

  test("take() waits for the next push", async () => {
    const queue = new BoundedQueue<string>(1);
    const taken = queue.take();
    queue.push("late");
    expect(await taken).toBe("late");
  });

  test("close() lets the consumer drain, then ends it", async () => {
    const queue = new BoundedQueue<number>(3);
    queue.push(1);
    queue.close();
    expect(queue.push(2)).toBe(false);
    expect([await queue.take(), await queue.take()]).toEqual([1, undefined]);
  });

  test("close() wakes a waiting consumer", async () => {
    const queue = new BoundedQueue<number>(3);
    const taken = queue.take();
    queue.close();
    expect(await taken).toBeUndefined();
  });
});
