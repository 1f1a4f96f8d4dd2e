// Cell tags (kernel/tags.ts): the runner and the replay read them the same way.
import { describe, expect, it } from "vitest";
import { checkCell } from "../../kernel/replay/compare";
import type { Cell } from "../../kernel/nbformat";
import { hasTag, SKIP_TAG, tagsOf } from "../../kernel/tags";

/** A code cell as a hand-edited notebook may hold it. */
const parsed = (metadata: string): Cell =>
  JSON.parse(`{"id": "c", "cell_type": "code", "source": "1", "outputs": [], "metadata": ${metadata}}`);

describe("tagsOf", () => {
  it("reads the list of tags, or none", () => {
    expect(tagsOf(parsed('{"tags": ["nbval-skip", "raises-exception"]}'))).toEqual(["nbval-skip", "raises-exception"]);
    expect(tagsOf(parsed("{}"))).toEqual([]);
    expect(hasTag(parsed('{"tags": ["nbval-skip"]}'), SKIP_TAG)).toBe(true);
  });

  it("counts a tags value that is not a list as no tags, in the replay too", () => {
    const odd = parsed('{"tags": "nbval-skip"}');
    expect(tagsOf(odd)).toEqual([]);
    expect(hasTag(odd, SKIP_TAG)).toBe(false);
    expect(checkCell(odd, [], []).mode).toBe("compare");
  });
});
