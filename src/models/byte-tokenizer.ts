/**
 * @file The byte-level tokenizer shared by the tiny language model, the /v1/completions route and
 * the attacks: token i is byte i (V = 256). Token strings (the keys of top_logprobs) are the
 * character itself for printable ASCII (0x20-0x7e) and "<0xNN>" for every other byte, like
 * SentencePiece's byte fallback; one token's string therefore always names exactly one id.
 */
export const BYTE_VOCAB = 256;

/** Token id of the padding byte (NUL) that fills a context shorter than the model's window. */
export const PAD_TOKEN = 0;

export function encodeText(text: string): number[] {
  return Array.from(Buffer.from(text, 'utf8'));
}

/** Bytes -> text (invalid UTF-8 becomes U+FFFD, as OpenAI's API does for partial tokens). */
export function decodeTokens(tokens: readonly number[]): string {
  return Buffer.from(Uint8Array.from(tokens)).toString('utf8');
}

export function tokenString(id: number): string {
  if (id >= 0x20 && id <= 0x7e) return String.fromCharCode(id);
  return `<0x${id.toString(16).toUpperCase().padStart(2, '0')}>`;
}

/** Inverse of tokenString; undefined for a string that names no token. */
export function tokenId(s: string): number | undefined {
  if (s.length === 1) {
    const c = s.charCodeAt(0);
    return c >= 0x20 && c <= 0x7e ? c : undefined;
  }
  const m = /^<0x([0-9A-F]{2})>$/.exec(s);
  if (!m) return undefined;
  const id = Number.parseInt(m[1], 16);
  return id >= 0x20 && id <= 0x7e ? undefined : id;
}
