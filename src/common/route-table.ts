import { Injectable } from '@nestjs/common';

interface RouteEntry {
  pattern: RegExp;
  methods: Set<string>;
}

/**
 * The registered (path pattern → methods) table, read from Express once routes exist,
 * so an unmatched request on a known path answers 405 with `Allow` instead of 404.
 */
@Injectable()
export class RouteTable {
  private entries: RouteEntry[] = [];

  load(expressApp: unknown): void {
    const app = expressApp as { router?: { stack?: unknown[] }; _router?: { stack?: unknown[] } };
    const stack = (app.router ?? app._router)?.stack ?? [];
    const byPath = new Map<string, Set<string>>();
    for (const layer of stack as { route?: { path: unknown; methods: Record<string, boolean> } }[]) {
      const route = layer.route;
      if (!route || typeof route.path !== 'string') {
        continue;
      }
      const set = byPath.get(route.path) ?? new Set<string>();
      for (const [m, on] of Object.entries(route.methods)) {
        if (on && m !== '_all') {
          set.add(m.toUpperCase());
        }
      }
      byPath.set(route.path, set);
    }
    this.entries = [...byPath.entries()].map(([path, methods]) => ({ pattern: toRegExp(path), methods }));
  }

  /** Methods allowed on this path, or an empty list for an unknown path. */
  allowedMethods(path: string): string[] {
    const out = new Set<string>();
    for (const e of this.entries) {
      if (e.pattern.test(path)) {
        e.methods.forEach((m) => out.add(m));
      }
    }
    if (out.size === 0) {
      return [];
    }
    if (out.has('GET')) {
      out.add('HEAD');
    }
    out.add('OPTIONS');
    return [...out].sort();
  }
}

function toRegExp(path: string): RegExp {
  const body = path
    .replace(/\/+$/, '')
    .split('/')
    .map((seg) => (seg.startsWith(':') ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${body}/?$`);
}
