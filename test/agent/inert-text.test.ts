import { describe, expect, test } from "bun:test";
import { inertText } from "../../src/agent/inert-text.ts";

describe("inertText()", () => {
  test("leaves ordinary names alone, including non-Latin letters", () => {
    expect(inertText("deploy_bot")).toBe("deploy_bot");
    expect(inertText("José-Ωμέγα 用户")).toBe("José-Ωμέγα 用户");
  });

  test("escapes a newline so a fake log line cannot start (A3)", () => {
    expect(inertText("root\n[ALERT] fake")).toBe("root\\x0a[ALERT] fake");
  });

  test("escapes ANSI escapes, DEL and C1 controls", () => {
    expect(inertText("\u001b[31mred\u007f\u0085")).toBe("\\x1b[31mred\\x7f\\x85");
  });

  test("escapes marks that reorder or hide text", () => {
    expect(inertText("a\u202eb\u200bc\u2066d\ufeff")).toBe(
      "a\\u{202e}b\\u{200b}c\\u{2066}d\\u{feff}",
    );
  });

  test("escapes invisible tag characters and interlinear annotation marks", () => {
    expect(inertText("root\u{e0041}\u{e007f}x\ufff9y\ufffb")).toBe(
      "root\\u{e0041}\\u{e007f}x\\u{fff9}y\\u{fffb}",
    );
    expect(inertText("😀 ﬀ 中")).toBe("😀 ﬀ 中");
  });

  test("doubles a backslash so escapes cannot be forged", () => {
    expect(inertText("a\\x0ab")).toBe("a\\\\x0ab");
  });
});
