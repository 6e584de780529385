import { GoogleGenAI, type GenerateContentResponse } from '@google/genai';
import { Inject, Injectable } from '@nestjs/common';
import { LOGGER, type AppLogger } from '../../common/logger';
import { AppConfig } from '../../config/config';
import { Metrics, type UpstreamOutcome } from '../../observability/metrics.service';
import { BreakerOpenError, BreakerState, UpstreamBreaker } from '../crowd-prediction/upstream-breaker';
import { GeminiError, GeminiFailureKind } from './gemini.errors';
import { ImageDecodes } from '../images/image-decodes';
import { prepareImageForGemini } from './image-prep';

/** Backoff before retry n is uniform in [0, min(BACKOFF_CAP_MS, BACKOFF_BASE_MS·2^(n−1))] (spec §5). */
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 4000;
/** A server retry hint is honoured only if it plus this margin fits the remaining budget. */
const HINT_MARGIN_MS = 1000;


/** One failed attempt, classified for the retry decision. */
class AttemptError extends GeminiError {
  constructor(
    kind: GeminiFailureKind,
    message: string,
    readonly retryReason: '429' | '5xx' | 'timeout' | null,
    /** server hint in ms (RetryInfo.retryDelay or Retry-After) */
    readonly hintMs: number | null,
    /** counts toward opening the breaker */
    readonly outage: boolean,
  ) {
    super(kind, message);
  }
}

/**
 * The only place that knows Gemini (via @google/genai). `countPeople` prepares the image, asks for a
 * head count with bounded retries and returns a plain number; callers never see SDK types.
 */
@Injectable()
export class GeminiClient {
  private readonly ai: GoogleGenAI | null;
  private readonly breaker: UpstreamBreaker;
  private readonly log: AppLogger;

  constructor(
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
    @Inject(LOGGER) logger: AppLogger,
    private readonly decodes: ImageDecodes,
  ) {
    this.log = logger.child({ context: 'GeminiClient' });
    const g = config.gemini;
    // no retryOptions: the SDK then makes exactly one fetch per call, so our loop counts attempts exactly
    this.ai = g.apiKey ? new GoogleGenAI({ apiKey: g.apiKey, httpOptions: { baseUrl: g.baseUrl, apiVersion: 'v1beta' } }) : null;
    this.breaker = new UpstreamBreaker('gemini', config.gemini.breaker, this.log);
  }

  /** The backoff jitter, uniform in [0, 1); a test subclass makes it deterministic. */
  protected random(): number {
    return Math.random();
  }

  get configured(): boolean {
    return this.ai !== null;
  }

  get breakerState(): BreakerState {
    return this.breaker.state;
  }

  /**
   * Head count estimated by Gemini for `image` (any format sharp reads). Throws GeminiError; the
   * detection service turns any failure into the generic carbon_error and logs `kind`.
   */
  async countPeople(image: Buffer, capacity: number): Promise<number> {
    const ai = this.ai;
    if (ai === null) {
      throw new GeminiError('not_configured', 'Gemini is not configured');
    }
    const run = async (): Promise<number> => {
      let jpeg: Buffer;
      try {
        const limitMs = this.config.limits.imagePrepTimeoutMs;
        jpeg = (await this.decodes.run(() => prepareImageForGemini(image, limitMs), limitMs)).jpeg;
      } catch (e) {
        throw new GeminiError('image_error', `image could not be prepared: ${e instanceof Error ? e.message : String(e)}`);
      }
      return this.withRetries(ai, jpeg, capacity);
    };
    try {
      // the image is prepared inside the breaker so an open circuit costs no decoding
      return await this.breaker.execute(run, (e) => e instanceof AttemptError && e.outage);
    } catch (e) {
      if (e instanceof BreakerOpenError) {
        throw new GeminiError('circuit_open', 'Gemini circuit is open');
      }
      if (e instanceof GeminiError) {
        // plain class toward callers: the attempt details were logged
        throw new GeminiError(e.kind, e.message);
      }
      throw new GeminiError('http_error', e instanceof Error ? e.message : String(e));
    }
  }

  private async withRetries(ai: GoogleGenAI, jpeg: Buffer, capacity: number): Promise<number> {
    const { timeoutMs, maxAttempts } = this.config.gemini;
    const deadline = performance.now() + timeoutMs * maxAttempts;
    for (let attempt = 1; ; attempt++) {
      const remaining = deadline - performance.now();
      try {
        return await this.attempt(ai, jpeg, capacity, Math.max(1, Math.floor(Math.min(timeoutMs, remaining))));
      } catch (e) {
        if (!(e instanceof AttemptError) || e.retryReason === null || attempt >= maxAttempts) {
          throw e;
        }
        const left = deadline - performance.now();
        let waitMs: number;
        if (e.hintMs !== null) {
          if (e.hintMs + HINT_MARGIN_MS > left) {
            this.log.warn({ attempt, hint_ms: e.hintMs, remaining_ms: Math.round(left) }, 'Gemini retry hint exceeds the remaining budget; not retrying');
            throw e;
          }
          waitMs = e.hintMs;
        } else {
          waitMs = this.random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
          if (waitMs >= left) {
            throw e;
          }
        }
        this.metrics.geminiRetry(e.retryReason);
        this.log.info({ attempt, reason: e.retryReason, wait_ms: Math.round(waitMs) }, 'retrying Gemini');
        await sleep(waitMs);
      }
    }
  }

  private async attempt(ai: GoogleGenAI, jpeg: Buffer, capacity: number, attemptMs: number): Promise<number> {
    const start = performance.now();
    const signal = AbortSignal.timeout(attemptMs);
    let retryAfter: string | null = null;
    const record = (outcome: UpstreamOutcome): void => this.metrics.recordUpstream('gemini', outcome, (performance.now() - start) / 1000);
    let response: GenerateContentResponse;
    try {
      response = await ai.models.generateContent({
        model: this.config.gemini.model,
        contents: [
          {
            role: 'user',
            parts: [{ text: `Count people. Capacity: ${capacity}. Return only the number.` }, { inlineData: { mimeType: 'image/jpeg', data: jpeg.toString('base64') } }],
          },
        ],
        config: {
          temperature: 0,
          maxOutputTokens: 32,
          abortSignal: signal,
          // our own fetch only to read Retry-After, which the SDK's error drops
          httpOptions: {
            timeout: attemptMs,
            fetch: async (input: string | URL | Request, init?: RequestInit) => {
              const res = await fetch(input, init);
              retryAfter = res.headers.get('retry-after');
              return res;
            },
          },
        },
      });
    } catch (e) {
      const err = classifyAttemptError(e, signal.aborted, retryAfter);
      record(attemptOutcome(err, isStatusError(e)));
      this.log.warn({ kind: err.kind, reason: err.message, duration_ms: Math.round(performance.now() - start) }, 'Gemini attempt failed');
      throw err;
    }
    record('ok');
    return parseCount(response);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function isStatusError(e: unknown): e is Error & { status: number } {
  return e instanceof Error && typeof (e as { status?: unknown }).status === 'number';
}

/** The metrics label of a failed attempt (spec §7 outcomes). */
function attemptOutcome(err: AttemptError, answeredWithStatus: boolean): UpstreamOutcome {
  if (err.kind === 'timeout') {
    return 'timeout';
  }
  if (err.kind === 'http_error') {
    return answeredWithStatus ? 'http_error' : 'connect_error';
  }
  return 'invalid_response';
}

function classifyAttemptError(e: unknown, timedOut: boolean, retryAfter: string | null): AttemptError {
  if (timedOut || (e instanceof Error && (e.name === 'AbortError' || e.name === 'TimeoutError'))) {
    return new AttemptError('timeout', 'Gemini attempt timed out', 'timeout', null, true);
  }
  if (isStatusError(e)) {
    const status = e.status;
    const hint = retryHintMs(e.message, retryAfter);
    const reason = status === 429 ? '429' : status >= 500 ? '5xx' : null;
    return new AttemptError('http_error', `Gemini answered ${status}`, reason, reason ? hint : null, reason !== null);
  }
  if (e instanceof SyntaxError) {
    return new AttemptError('unparsable', 'Gemini answered a non-JSON body', null, null, false);
  }
  // refused, reset, DNS, TLS: not retried (spec: only 429, 5xx, timeouts) but an outage
  return new AttemptError('http_error', `Gemini unreachable: ${e instanceof Error ? e.message : String(e)}`, null, null, true);
}

/** `google.rpc.RetryInfo.retryDelay` ("2s", "0.5s") from the error envelope, else `Retry-After` seconds. */
export function retryHintMs(errorMessage: string, retryAfter: string | null): number | null {
  try {
    const body = JSON.parse(errorMessage) as { error?: { details?: { '@type'?: string; retryDelay?: unknown }[] } };
    for (const d of body.error?.details ?? []) {
      if (typeof d.retryDelay === 'string' && (d['@type'] ?? '').endsWith('google.rpc.RetryInfo')) {
        const m = /^(\d+(?:\.\d+)?)s$/.exec(d.retryDelay.trim());
        if (m) {
          return Math.round(Number(m[1]) * 1000);
        }
      }
    }
  } catch {
    // the SDK puts the raw text in the message when the body is not JSON
  }
  if (retryAfter !== null && /^\d+$/.test(retryAfter.trim())) {
    return Number(retryAfter.trim()) * 1000;
  }
  if (retryAfter !== null) {
    const at = Date.parse(retryAfter);
    if (!Number.isNaN(at)) {
      return Math.max(0, at - Date.now());
    }
  }
  return null;
}

/** First digit run of the joined non-thought text parts of the first candidate (spec §5 step 5). */
export function parseCount(response: Pick<GenerateContentResponse, 'candidates' | 'promptFeedback'>): number {
  const candidate = response.candidates?.[0];
  if (!candidate || response.promptFeedback?.blockReason) {
    throw new GeminiError('blocked', `Gemini returned no candidate${response.promptFeedback?.blockReason ? ` (blocked: ${response.promptFeedback.blockReason})` : ''}`);
  }
  const text = (candidate.content?.parts ?? [])
    .filter((p) => p.thought !== true)
    .map((p) => p.text ?? '')
    .join('');
  const digits = /[0-9]+/.exec(text)?.[0];
  if (digits === undefined) {
    throw new GeminiError('unparsable', 'Gemini answer has no number');
  }
  if (BigInt(digits) > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new GeminiError('unparsable', 'Gemini number is too large');
  }
  return Number(digits);
}
