/**
 * @file A paid-query client for OpenAI-style /v1/completions endpoints (text, not tensor rows, so
 * it sits beside the Oracle stack): enforces a query budget BEFORE sending (HEIST_ERR_BUDGET_EXHAUSTED),
 * counts prompt and completion tokens (from the server's usage, else the byte-level count), and
 * appends every paid request and answer to a JSONL transcript (line 1 is a header), written and
 * fsync'd before the caller sees the answer.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { HeistError } from '../core/errors.js';
import { type Clock, systemClock } from '../core/types.js';
import { encodeText } from '../models/byte-tokenizer.js';

export interface CompletionQuery {
  readonly model: string;
  readonly prompt: string | readonly number[];
  readonly max_tokens: number;
  readonly logprobs?: number | 'full';
  readonly logit_bias?: Readonly<Record<string, number>>;
  readonly temperature?: number;
  readonly seed?: number;
}

export interface CompletionAnswer {
  readonly choices: readonly {
    readonly text: string;
    readonly logprobs: {
      readonly tokens: readonly string[];
      readonly token_logprobs: readonly number[];
      readonly top_logprobs: readonly Readonly<Record<string, number>>[];
      readonly x_heist_logits?: readonly (readonly number[])[];
    } | null;
  }[];
  readonly usage?: {
    readonly prompt_tokens: number;
    readonly completion_tokens: number;
    readonly total_tokens: number;
  };
}

export interface CompletionsClientOptions {
  /** Most paid requests. */
  readonly maxQueries: number;
  /**
   * 'completions' (default): POST {base}/completions. 'chat': POST {base}/chat/completions, the
   * prompt sent as one user message, logprobs as `logprobs: true, top_logprobs: k`, and the answer
   * read back into the completions shape (no "full" logits over chat).
   */
  readonly api?: 'completions' | 'chat';
  readonly transcriptPath?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly fetch?: typeof fetch;
  readonly clock?: Clock;
  /** fsync the transcript after each answer (default true). */
  readonly fsync?: boolean;
}

export interface CompletionsClient {
  complete(q: CompletionQuery): Promise<CompletionAnswer>;
  readonly queries: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly remaining: number;
  close(): void;
}

/** A completions query as a chat completions request (OpenAI's chat format). */
export function toChatRequest(q: CompletionQuery): Record<string, unknown> {
  if (q.logprobs === 'full')
    throw new HeistError(
      'HEIST_ERR_BAD_CONFIG',
      'the chat API has no "full" logprobs: use top-k logprobs with logit_bias',
    );
  if (typeof q.prompt !== 'string')
    throw new HeistError('HEIST_ERR_BAD_CONFIG', 'the chat API takes text prompts, not token ids');
  return {
    model: q.model,
    messages: [{ role: 'user', content: q.prompt }],
    max_tokens: q.max_tokens,
    ...(q.logprobs !== undefined ? { logprobs: true, top_logprobs: q.logprobs } : {}),
    ...(q.logit_bias ? { logit_bias: q.logit_bias } : {}),
    ...(q.temperature !== undefined ? { temperature: q.temperature } : {}),
    ...(q.seed !== undefined ? { seed: q.seed } : {}),
  };
}

interface ChatLogprob {
  readonly token: string;
  readonly logprob: number;
  readonly top_logprobs?: readonly { readonly token: string; readonly logprob: number }[];
}

/** A chat completions answer in the completions shape the attacks read. */
export function fromChatAnswer(body: unknown, url: string): CompletionAnswer {
  const choices = (body as { choices?: unknown }).choices;
  if (!Array.isArray(choices) || choices.length === 0)
    throw new HeistError('HEIST_ERR_UPSTREAM', `${url} answered without choices`);
  const c = choices[0] as { message?: { content?: unknown }; logprobs?: { content?: readonly ChatLogprob[] } | null };
  const content: readonly ChatLogprob[] | undefined = c.logprobs?.content;
  if (content !== undefined && !Array.isArray(content))
    throw new HeistError('HEIST_ERR_UPSTREAM', `${url} answered logprobs.content that is not a list`);
  return {
    choices: [
      {
        text: typeof c.message?.content === 'string' ? c.message.content : '',
        logprobs: content
          ? {
              tokens: content.map((t) => t.token),
              token_logprobs: content.map((t) => t.logprob),
              top_logprobs: content.map((t) =>
                Object.fromEntries(
                  (t.top_logprobs ?? []).map((e: { token: string; logprob: number }) => [e.token, e.logprob]),
                ),
              ),
            }
          : null,
      },
    ],
    ...((body as { usage?: CompletionAnswer['usage'] }).usage
      ? { usage: (body as { usage: CompletionAnswer['usage'] }).usage }
      : {}),
  };
}

/** baseUrl: the API root that holds /completions, e.g. http://127.0.0.1:8080/v1. */
export function createCompletionsClient(baseUrl: string, o: CompletionsClientOptions): CompletionsClient {
  if (!(Number.isInteger(o.maxQueries) && o.maxQueries >= 0))
    throw new HeistError('HEIST_ERR_BAD_CONFIG', `maxQueries must be a non-negative integer, got ${o.maxQueries}`);
  const api = o.api ?? 'completions';
  const url = `${baseUrl.replace(/\/+$/, '')}/${api === 'chat' ? 'chat/completions' : 'completions'}`;
  const doFetch = o.fetch ?? fetch;
  const clock = o.clock ?? systemClock;
  let fd: number | undefined;
  if (o.transcriptPath) {
    if (existsSync(o.transcriptPath))
      throw new HeistError('HEIST_ERR_BAD_CONFIG', `${o.transcriptPath} exists: paid answers are never overwritten`);
    mkdirSync(dirname(o.transcriptPath), { recursive: true });
    fd = openSync(o.transcriptPath, 'wx');
    writeSync(fd, `${JSON.stringify({ heist: 'completions-transcript', v: 1, url, at: clock.now() })}\n`);
  }
  let queries = 0;
  let inFlight = 0;
  let promptTokens = 0;
  let completionTokens = 0;
  return {
    get queries() {
      return queries;
    },
    get promptTokens() {
      return promptTokens;
    },
    get completionTokens() {
      return completionTokens;
    },
    get remaining() {
      return o.maxQueries - queries - inFlight;
    },
    async complete(q) {
      if (queries + inFlight >= o.maxQueries) {
        throw new HeistError('HEIST_ERR_BUDGET_EXHAUSTED', `the query budget (${o.maxQueries} requests) is spent`, {
          details: { limit: o.maxQueries },
        });
      }
      inFlight++;
      let answer: CompletionAnswer;
      try {
        const res = await doFetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...o.headers },
          body: JSON.stringify(api === 'chat' ? toChatRequest(q) : q),
        });
        const text = await res.text();
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          throw new HeistError('HEIST_ERR_UPSTREAM', `${url} answered ${res.status} with a body that is not JSON`);
        }
        if (!res.ok) {
          const err = (body as { error?: { code?: string; message?: string } }).error;
          throw new HeistError(
            'HEIST_ERR_UPSTREAM',
            `${url} answered ${res.status} ${err?.code ?? ''}: ${err?.message ?? ''}`,
            { details: { status: res.status, error: err } },
          );
        }
        answer = api === 'chat' ? fromChatAnswer(body, url) : (body as CompletionAnswer);
        if (!Array.isArray(answer.choices) || answer.choices.length === 0)
          throw new HeistError('HEIST_ERR_UPSTREAM', `${url} answered without choices`);
        // Paid from here on: count and record before the caller sees it.
        queries++;
        const pt =
          answer.usage?.prompt_tokens ?? (typeof q.prompt === 'string' ? encodeText(q.prompt).length : q.prompt.length);
        const ct = answer.usage?.completion_tokens ?? q.max_tokens;
        promptTokens += pt;
        completionTokens += ct;
        if (fd !== undefined) {
          writeSync(fd, `${JSON.stringify({ at: clock.now(), request: q, response: body })}\n`);
          if (o.fsync !== false) fsyncSync(fd);
        }
      } finally {
        inFlight--;
      }
      return answer;
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}
