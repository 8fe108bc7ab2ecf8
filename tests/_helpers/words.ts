/**
 * `words(text)`: the whitespace-separated words of `text`, in order, so a
 * long expected list (of scopes, say) reads as a few lines grouped by
 * meaning instead of one string a line.
 *
 * @module
 */

/** The words of `text` in order: `words("a b\n c")` is `["a", "b", "c"]`. */
export function words(text: string): string[] {
  const trimmed = text.trim();
  return trimmed === "" ? [] : trimmed.split(/\s+/);
}
