/** IPC between the primary and its workers (node:cluster), tagged so other messages pass by. */
export type ClusterMessage =
  | { ecoflow: 'listening'; port: number }
  /** a worker serving GET /metrics asks for every worker's registry */
  | { ecoflow: 'metrics-request'; id: string }
  | { ecoflow: 'metrics-collect'; id: string }
  | { ecoflow: 'metrics-part'; id: string; metrics: unknown }
  | { ecoflow: 'metrics-result'; id: string; parts: unknown[] };

export function isClusterMessage(m: unknown): m is ClusterMessage {
  return typeof m === 'object' && m !== null && typeof (m as { ecoflow?: unknown }).ecoflow === 'string';
}
