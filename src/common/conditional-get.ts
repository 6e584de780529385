import { createHash } from 'node:crypto';
import type { Response } from 'express';
import type { ChangeVersions } from '../database/change-versions.repository';

/**
 * Conditional GETs on polled lists (issue 16, "cheap polling"): the ETag is computed from what
 * the answer depends on, not from the answer, so a matching If-None-Match is answered 304
 * before the list is counted, read or serialized.
 *
 * Tag = weak validator over: TAG_FORMAT, the route, the validated and normalized query (limit and
 * offset after clamping, parsed filters) and the change versions (plus the board's staleness
 * marker) read in one query before the list. Versions are read before the list, so a 200's body
 * is never older than its tag (READ COMMITTED: at worst newer, which the next poll corrects). No
 * caller's role or id: none of these lists depends on who asks (hence `private` anyway).
 */

/** Raise when the JSON of an alert, zone occupancy or organization changes shape. */
const TAG_FORMAT = 1;

export const LIST_CACHE_CONTROL = 'private, no-cache';

/** A weak ETag (W/"…"): validators are compared weakly for If-None-Match anyway (RFC 9110 §13.1.2). */
export function listEtag(route: string, query: Record<string, unknown>, versions: ChangeVersions): string {
  const canonical = JSON.stringify([
    TAG_FORMAT,
    route,
    Object.keys(query)
      .sort()
      .map((k) => [k, query[k] ?? null]),
    Object.keys(versions)
      .sort()
      .map((k) => [k, versions[k]]),
  ]);
  return `W/"${createHash('sha256').update(canonical).digest('base64url').slice(0, 27)}"`;
}

/** The opaque part of an entity tag, without W/. */
function opaque(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag;
}

/**
 * If-None-Match against `etag` with the weak comparison of RFC 9110 §13.1.2: `*`, or any tag of
 * the comma-separated list (repeated headers included) whose opaque part equals ours.
 */
export function ifNoneMatchHits(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) {
    return false;
  }
  const value = Array.isArray(header) ? header.join(',') : header;
  if (value.trim() === '*') {
    return true;
  }
  const ours = opaque(etag);
  // entity tags are quoted and cannot contain '"' inside: split on the tags themselves, not on commas
  for (const m of value.matchAll(/(?:W\/)?"[^"]*"/g)) {
    if (opaque(m[0]) === ours) {
      return true;
    }
  }
  return false;
}

/**
 * Sets ETag and Cache-Control on `res`; when If-None-Match matches, ends it with 304 (no body,
 * no X-Total-Count) and returns true: the caller must not read the list.
 */
export function answeredNotModified(res: Response, etag: string, ifNoneMatch: string | string[] | undefined): boolean {
  res.setHeader('ETag', etag);
  res.setHeader('Cache-Control', LIST_CACHE_CONTROL);
  if (!ifNoneMatchHits(ifNoneMatch, etag)) {
    return false;
  }
  res.status(304).end();
  return true;
}

interface CachedList {
  body: string;
  total: number;
}

/** Serialized list answers by ETag, per process: a few polled lists, each under 1 MiB. */
const CACHE_ENTRIES = 32;
const CACHE_MAX_BODY = 1024 * 1024;
const cached = new Map<string, CachedList>();
const loading = new Map<string, Promise<CachedList>>();

/**
 * The 200 of a list (the ETag is already set): X-Total-Count and the JSON body. The serialized
 * answer is kept under its ETag, and concurrent requests for one tag share one read: polls that
 * do not send If-None-Match (or whose tag is older) then cost one read per version and process,
 * not one per poll. Safe because the tag names the versions read before the list: a later change
 * raises a version and so makes another tag.
 */
export async function sendList(res: Response, etag: string, load: () => Promise<{ items: unknown[]; total: number }>): Promise<void> {
  let entry = cached.get(etag);
  if (entry) {
    cached.delete(etag); // most recently used last
    cached.set(etag, entry);
  } else {
    let pending = loading.get(etag);
    if (!pending) {
      pending = load().then(({ items, total }) => ({ body: JSON.stringify(items), total }));
      loading.set(etag, pending);
      void pending
        .then((e) => {
          if (e.body.length <= CACHE_MAX_BODY) {
            cached.set(etag, e);
            if (cached.size > CACHE_ENTRIES) {
              cached.delete(cached.keys().next().value as string);
            }
          }
        })
        .catch(() => undefined)
        .finally(() => loading.delete(etag));
    }
    entry = await pending;
  }
  res.setHeader('X-Total-Count', String(entry.total));
  res.status(200).type('application/json').send(entry.body);
}
